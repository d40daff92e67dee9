"""File sizes of a weight-dominated model at each precision, against the issue's targets.

Builds an MLP (Linear layers of the given widths with ReLU between them, torch.manual_seed(0)),
exports it with qrt_torch, converts it with `qrt quantize` in each mode, once with `--keep none`
(every layer converted) and once with the default policy (first and last weighted layer kept in
fp16), and prints the `.qrt` file sizes with their ratio to the fp32 file.

Targets (checked with --check, on the `--keep none` rows): int8 <= 0.27x, NF4 <= 0.15x of fp32.
Why they hold for large layers: an int8 weight row of K values costs K bytes plus a 4-byte scale
(the bias stays fp32, 4 bytes per row) against 4K + 4 bytes in fp32, so the ratio tends to 0.25 +
2/K; NF4 costs K/2 bytes plus one 8-bit absmax code per 64-value block (double quantization), so
it tends to 0.125 + 1/256 + 1/K.

  /usr/bin/python3 tools/bench/file_sizes.py --qrt build/tools/qrt [--widths 1024,4096,4096,1024]
      [--check]
Exit status: 0, 1 when --check finds a target missed, 2 on bad arguments or a failed command.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import warnings

REPO_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "frontends", "pytorch"))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import qrt_torch  # noqa: E402

# Largest allowed size ratio to the fp32 file with every layer converted (issue 3's targets).
TARGETS = {"dynamic": 0.27, "nf4": 0.15}
# (mode, what the row is called); w8 and static store the same int8 weights as dynamic.
MODES = [("fp16", "fp16"), ("w8", "int8 weights (w8a16)"), ("dynamic", "int8 dynamic"),
         ("nf4", "nf4 (block 64, double quant)")]
KEEPS = [("none", "--keep none"), ("first,last", "default (first,last fp16)")]


def mlp(widths):
    layers = []
    for i in range(len(widths) - 1):
        if i:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(widths[i], widths[i + 1]))
    return nn.Sequential(*layers).eval()


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"file_sizes: `{' '.join(cmd)}` failed ({proc.returncode}):\n"
                 f"{proc.stdout}{proc.stderr}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qrt", required=True, help="the built qrt CLI")
    parser.add_argument("--widths", default="1024,4096,4096,1024",
                        help="comma list of layer widths (multiples of 64 for NF4 with --keep none)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    try:
        widths = [int(w) for w in args.widths.split(",")]
    except ValueError:
        parser.error(f"--widths must be integers separated by commas, got {args.widths!r}")
    if len(widths) < 2 or min(widths) < 1:
        parser.error(f"--widths needs at least two positive widths, got {args.widths!r}")
    if not os.access(args.qrt, os.X_OK):
        parser.error(f"--qrt {args.qrt} is not an executable file")

    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    torch.manual_seed(0)
    model = mlp(widths)
    weights = sum(p.numel() for p in model.parameters())
    missed = []
    with tempfile.TemporaryDirectory(prefix="qrt_file_sizes_") as workdir:
        fp32 = os.path.join(workdir, "fp32.qrt")
        qrt_torch.export(model, (torch.randn(1, widths[0]),), fp32, input_names=["x"],
                         output_names=["y"])
        fp32_bytes = os.path.getsize(fp32)
        print(f"MLP {'-'.join(map(str, widths))} (Linear + ReLU), {weights:,} parameters; "
              f"fp32 file {fp32_bytes:,} bytes")
        print("| precision | policy | bytes | vs fp32 | target |")
        print("|---|---|---|---|---|")
        print(f"| fp32 | | {fp32_bytes:,} | 1.000 | |")
        for mode, mode_text in MODES:
            for keep, keep_text in KEEPS:
                out = os.path.join(workdir, f"{mode}_{keep.replace(',', '_')}.qrt")
                run([args.qrt, "quantize", fp32, "-o", out, "--mode", mode, "--keep", keep])
                size = os.path.getsize(out)
                ratio = size / fp32_bytes
                target = TARGETS.get(mode) if keep == "none" else None
                verdict = ""
                if target is not None:
                    met = ratio <= target
                    verdict = f"<= {target} {'met' if met else 'MISSED'}"
                    if not met:
                        missed.append(f"{mode_text} {keep_text}: {ratio:.3f} > {target}")
                print(f"| {mode_text} | {keep_text} | {size:,} | {ratio:.3f} | {verdict} |")
                os.remove(out)
    if args.check and missed:
        print("file_sizes: target missed: " + "; ".join(missed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
