"""Exports the PyTorch CPU anchor's forecaster to a `.qrt` file, so qrt times the same network.

The anchor script (e.g. ../shared/anchors/cpu_anchor.py) runs its benchmark when executed, so it
is not imported: only its `class F` definition is taken from its source (with `ast`) and executed,
so the network here is the anchor's own code. The model is built right after
`torch.manual_seed(0)`, like the anchor's first engine, and traced on a [1, 96, 7] window (the
anchor feeds `torch.randn(B, 96, 7)`; the batch stays dynamic in the file).

  /usr/bin/python3 tools/bench/export_anchor_forecaster.py ANCHOR.py OUT.qrt
"""

import ast
import os
import sys
import warnings

REPO_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "frontends", "pytorch"))

import torch  # noqa: E402

import qrt_torch  # noqa: E402

ANCHOR_CLASS = "F"
LOOKBACK = 96
CHANNELS = 7


def anchor_model_class(anchor_path):
    with open(anchor_path) as f:
        tree = ast.parse(f.read(), filename=anchor_path)
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == ANCHOR_CLASS:
            namespace = {"torch": torch}
            code = compile(ast.Module(body=[node], type_ignores=[]), anchor_path, "exec")
            exec(code, namespace)  # the anchor's own class definition, nothing else
            return namespace[ANCHOR_CLASS]
    sys.exit(f"export_anchor_forecaster: {anchor_path} defines no class {ANCHOR_CLASS}")


def main():
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} ANCHOR.py OUT.qrt")
    anchor_path, out_path = sys.argv[1], sys.argv[2]
    model_class = anchor_model_class(anchor_path)
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    torch.manual_seed(0)
    model = model_class().eval()
    summary = qrt_torch.export(model, (torch.randn(1, LOOKBACK, CHANNELS),), out_path,
                               input_names=["x"], output_names=["y"])
    params = sum(p.numel() for p in model.parameters())
    print(f"exported the anchor's {ANCHOR_CLASS} ({params:,} parameters) to {out_path}: "
          f"inputs {summary['inputs']}, outputs {summary['outputs']}")


if __name__ == "__main__":
    main()
