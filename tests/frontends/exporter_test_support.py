"""Shared helpers for the PyTorch exporter tests: import path, running `qrt run`, comparisons."""

import os
import subprocess
import sys
import tempfile
import unittest
import warnings

REPO_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "frontends", "pytorch"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import qrt_torch  # noqa: E402

# Tracing warns about Python-level checks inside nn.LSTM; they do not affect these models.
warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
import reference_interpreter  # noqa: E402

# Parity bound: max |qrt - torch| <= RELATIVE_TOLERANCE * max |torch| + ABSOLUTE_TOLERANCE.
# float32 rounds each operation to ~6e-8 relative; the deepest models here (3-layer LSTMs over a
# dozen steps, LayerNorm, GEMMs with K <= 64) accumulate a few hundred roundings in a different
# order than PyTorch's kernels, which stays well below 1e-5 of the output range. The absolute term
# covers outputs that are legitimately near zero everywhere.
RELATIVE_TOLERANCE = 1e-5
ABSOLUTE_TOLERANCE = 1e-6


def qrt_cli():
    """Path of the built `qrt` program (CTest passes it in QRT_CLI), or None."""
    return os.environ.get("QRT_CLI") or None


def require_cli(test):
    """Skips `test` when no `qrt` program was given; fails when one was given but is missing."""
    cli = qrt_cli()
    if cli is None:
        raise unittest.SkipTest("QRT_CLI is not set (CTest sets it to the built qrt program)")
    if not os.access(cli, os.X_OK):
        test.fail(f"QRT_CLI={cli} is not an executable file")
    return cli


def run_qrt(cli, model_path, inputs, workdir):
    """Runs `qrt run` on named numpy inputs; returns {output name: array}."""
    cmd = [cli, "run", model_path]
    for name, array in inputs.items():
        path = os.path.join(workdir, f"in_{name}.npy")
        np.save(path, np.ascontiguousarray(array, dtype=np.float32))
        cmd += ["--input", f"{name}={path}"]
    out_dir = os.path.join(workdir, "out")
    os.makedirs(out_dir, exist_ok=True)
    cmd += ["--output-dir", out_dir]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"`{' '.join(cmd)}` failed with exit code {proc.returncode}:\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return {f[:-4]: np.load(os.path.join(out_dir, f)) for f in os.listdir(out_dir)
            if f.endswith(".npy")}


def torch_outputs(model, inputs):
    with torch.no_grad():
        out = model.eval()(*inputs)
    flat = []

    def walk(o):
        if isinstance(o, (tuple, list)):
            for item in o:
                walk(item)
        else:
            flat.append(o.detach().numpy())

    walk(out)
    return flat


class ParityCase(unittest.TestCase):
    """Base class: export a model, run it with `qrt run`, compare with PyTorch."""

    def assert_close(self, have, want, context):
        have = np.asarray(have)
        self.assertEqual(tuple(have.shape), tuple(want.shape), f"{context}: shape")
        scale = float(np.max(np.abs(want))) if want.size else 0.0
        self.assertGreater(scale, 0.0, f"{context}: all zeros, the comparison would prove nothing")
        err = float(np.max(np.abs(have.astype(np.float64) - want.astype(np.float64))))
        bound = RELATIVE_TOLERANCE * scale + ABSOLUTE_TOLERANCE
        self.assertLessEqual(err, bound, f"{context}: max |got - torch| = {err:.3g} > {bound:.3g} "
                             f"(max |torch| = {scale:.3g})")

    def check_parity(self, model, trace_inputs, seed, run_inputs=None, input_names=None,
                     output_names=None, label=""):
        """Exports `model` traced on `trace_inputs` and runs the file on `run_inputs` (default:
        the same) twice: with the NumPy reference interpreter (checks what the exporter wrote)
        and with the qrt CLI (checks the C++ runtime); both must match PyTorch. Skips the CLI
        part, after the reference check, when no CLI is given. Returns the export summary."""
        run_inputs = trace_inputs if run_inputs is None else run_inputs
        context = f"{label or type(model).__name__} (seed {seed})"
        print(f"\n  {context}", end="")
        with tempfile.TemporaryDirectory(prefix="qrt_parity_") as workdir:
            path = os.path.join(workdir, "model.qrt")
            summary = qrt_torch.export(model, tuple(trace_inputs), path, input_names=input_names,
                                       output_names=output_names)
            names_in = [name for name, _ in summary["inputs"]]
            names_out = [name for name, _ in summary["outputs"]]
            expected = torch_outputs(model, run_inputs)
            self.assertEqual(len(expected), len(names_out), context)
            feed = {n: t.numpy() for n, t in zip(names_in, run_inputs)}

            reference = reference_interpreter.run(qrt_torch.read_qrt(path), feed)
            for name, want in zip(names_out, expected):
                self.assert_close(reference[name], want,
                                  f"{context}: reference interpreter, output {name!r}")

            cli = require_cli(self)
            got = run_qrt(cli, path, feed, workdir)
            for name, want in zip(names_out, expected):
                self.assertIn(name, got, f"{context}: qrt wrote no output {name!r}")
                self.assert_close(got[name], want, f"{context}: qrt run, output {name!r}")
        return summary
