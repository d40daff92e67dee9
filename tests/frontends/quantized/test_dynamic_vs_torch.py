"""Dynamic int8 quantization: qrt against torch.ao.quantization.quantize_dynamic on the same models.

Each random-weight model (fixed seed, printed) is exported with qrt_torch, quantized with
`qrt quantize --mode dynamic --keep none` and run with `qrt run`; PyTorch quantizes the same module
with `torch.ao.quantization.quantize_dynamic` (Linear and LSTM, qint8) on every quantized engine this
torch build has. Both outputs are compared with the fp32 PyTorch output on the same inputs by the
relative error ||y_q - y_fp32|| / ||y_fp32||; qrt's must be of the same order as torch's.

qrt's scheme is finer than torch's (per-output-channel weight scales and per-row activation scales,
against torch's per-tensor weight and activation scales), so its error is expected at or below
torch's; a wrong scale, zero point or rounding anywhere multiplies it.
"""

import contextlib
import copy
import os
import re
import subprocess
import sys
import tempfile
import unittest
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from exporter_test_support import qrt_torch, require_cli, run_qrt  # noqa: E402

# qrt's error may exceed the best torch engine's by at most this factor. Both round weights and
# activations to 8 bits, so their errors are of one order; 2x leaves room for the per-model spread
# of rounding noise while a wrong scale (even 1.5x on one layer) pushes qrt's error well past it.
MAX_ERROR_FACTOR = 2.0
# qrt's error must be at least this: fp32 parity is below 1e-5 (tests/frontends/test_parity.py),
# 8-bit rounding gives ~1e-2, so anything under 1e-4 means the model was not quantized at all.
MIN_QUANTIZED_ERROR = 1e-4
# Input columns marked as outliers are multiplied by this, so |x| there reaches ~30 >> 6.0.
OUTLIER_GAIN = 12.0
# Engines whose dynamic Linear/LSTM this test compares with (those this torch build has).
TORCH_ENGINES = [e for e in ("fbgemm", "x86", "onednn", "qnnpack")
                 if e in torch.backends.quantized.supported_engines]


@contextlib.contextmanager
def quiet_native_stderr(engine):
    """qnnpack's dynamic Linear logs "incorrectly ignores reduce_range" from C++ on every call
    (nn.quantized.dynamic.Linear always passes reduce_range=True); that would bury the test's own
    output, so the process's stderr is muted while that engine runs. Exceptions still propagate."""
    if engine != "qnnpack":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def relative_error(y, reference):
    y = np.asarray(y, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    return float(np.linalg.norm(y - reference) / np.linalg.norm(reference))


class Mlp(nn.Module):
    """Linear layers with the activations the exporter knows in between (prime widths)."""

    def __init__(self, widths):
        super().__init__()
        self.fc1 = nn.Linear(widths[0], widths[1])
        self.fc2 = nn.Linear(widths[1], widths[2])
        self.fc3 = nn.Linear(widths[2], widths[3])
        self.fc4 = nn.Linear(widths[3], widths[4])

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = nn.functional.gelu(self.fc2(x))
        x = nn.functional.silu(self.fc3(x))
        return self.fc4(x)


class Forecaster(nn.Module):
    """The forecaster of the PyTorch CPU anchor, smaller: LSTM -> LayerNorm on the last step ->
    Linear -> GELU -> Linear to horizon x channels."""

    def __init__(self, channels, hidden, layers, horizon):
        super().__init__()
        self.lstm = nn.LSTM(channels, hidden, layers, batch_first=True)
        self.ln = nn.LayerNorm(hidden)
        self.fc1 = nn.Linear(hidden, hidden)
        self.fc2 = nn.Linear(hidden, horizon * channels)

    def forward(self, x):
        y, _ = self.lstm(x)
        h = self.ln(y[:, -1])
        return self.fc2(nn.functional.gelu(self.fc1(h)))


class DynamicVsTorch(unittest.TestCase):

    def torch_dynamic_errors(self, model, x, reference):
        """{engine: relative error of torch's dynamic int8 model}."""
        errors = {}
        previous = torch.backends.quantized.engine
        try:
            for engine in TORCH_ENGINES:
                torch.backends.quantized.engine = engine
                quantized = torch.ao.quantization.quantize_dynamic(
                    copy.deepcopy(model), {nn.Linear, nn.LSTM}, dtype=torch.qint8)
                with torch.no_grad(), quiet_native_stderr(engine):
                    y = quantized(x).numpy()
                errors[engine] = relative_error(y, reference)
        finally:
            torch.backends.quantized.engine = previous
        return errors

    def qrt_dynamic_error(self, cli, fp32_path, x, reference, workdir, threshold):
        """Quantizes with `qrt quantize --mode dynamic --keep none`, runs it, returns the error."""
        path = os.path.join(workdir, f"dynamic_t{threshold}.qrt")
        cmd = [cli, "quantize", fp32_path, "-o", path, "--mode", "dynamic", "--keep", "none",
               "--threshold", str(threshold)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, f"`{' '.join(cmd)}`:\n{proc.stdout}\n{proc.stderr}")
        # Every weighted layer must have been converted (--keep none keeps nothing).
        layers = re.findall(r"^\s+(\S+)\s+(Linear|LSTM)\s+(\S+)", proc.stdout, re.MULTILINE)
        self.assertTrue(layers, f"no layer table in:\n{proc.stdout}")
        for name, op, precision in layers:
            self.assertEqual(precision, "int8-dynamic", f"{op} {name}:\n{proc.stdout}")
        outputs = run_qrt(cli, path, {"x": x.numpy()}, workdir)
        self.assertIn("y", outputs)
        return relative_error(outputs["y"], reference)

    def check(self, label, seed, make_model, x_shape, outlier_columns=()):
        cli = require_cli(self)
        if not TORCH_ENGINES:
            self.skipTest("this torch build has no quantized engine")
        torch.manual_seed(seed)
        model = make_model().eval()
        x = torch.randn(*x_shape)
        # LLM.int8()-style outlier features: a few input columns far above the 6.0 threshold.
        x[..., list(outlier_columns)] *= OUTLIER_GAIN
        with torch.no_grad():
            reference = model(x).numpy()
        self.assertGreater(float(np.abs(reference).max()), 0.0, "fp32 output is all zeros")

        torch_errors = self.torch_dynamic_errors(model, x, reference)
        with tempfile.TemporaryDirectory(prefix="qrt_dynamic_vs_torch_") as workdir:
            fp32_path = os.path.join(workdir, "fp32.qrt")
            with warnings.catch_warnings():
                # Tracing warns about Python-level checks inside nn.LSTM; harmless here.
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                qrt_torch.export(model, (x,), fp32_path, input_names=["x"], output_names=["y"])
            # Threshold 0 is plain W8A8 like torch's; 6.0 (the default) keeps LLM.int8() outlier
            # columns in float, which may only lower the error.
            qrt_errors = {t: self.qrt_dynamic_error(cli, fp32_path, x, reference, workdir, t)
                          for t in (0.0, 6.0)}

        best_engine = min(torch_errors, key=torch_errors.get)
        bound = MAX_ERROR_FACTOR * torch_errors[best_engine]
        torch_text = ", ".join(f"torch {e} {v:.5f}" for e, v in torch_errors.items())
        qrt_text = ", ".join(f"qrt threshold {t:g} {v:.5f}" for t, v in qrt_errors.items())
        summary = (f"{label} (seed {seed}, x {list(x_shape)}): relative error vs fp32: "
                   f"{qrt_text}; {torch_text}; bound {MAX_ERROR_FACTOR:g} x {best_engine} = "
                   f"{bound:.5f}")
        print(f"\n  {summary}", end="")
        for threshold, error in qrt_errors.items():
            self.assertGreater(error, MIN_QUANTIZED_ERROR,
                               f"threshold {threshold:g}: not quantized? {summary}")
            self.assertLessEqual(error, bound, f"threshold {threshold:g}: {summary}")

    def test_mlp_batch_of_rows(self):
        self.check("MLP 37-64-127-61-11", 11, lambda: Mlp([37, 64, 127, 61, 11]), (5, 37))

    def test_mlp_single_row_3d_input(self):
        # [1, 7, 64]: Linear over the last dimension of a rank-3 input, one batch row.
        self.check("MLP 64-256-256-64-29", 12, lambda: Mlp([64, 256, 256, 64, 29]), (1, 7, 64))

    def test_mlp_outlier_input_features(self):
        # Columns 3 and 41 are ~12x larger: per-row (qrt) and per-tensor (torch) activation scales
        # both lose the small columns' precision; threshold 6.0 keeps those columns in float.
        self.check("MLP 64-96-53-53-7 with outlier inputs", 15, lambda: Mlp([64, 96, 53, 53, 7]),
                   (6, 64), outlier_columns=(3, 41))

    def test_forecaster_lstm(self):
        self.check("forecaster LSTM(7,64,2)-LN-64-GELU-672", 13,
                   lambda: Forecaster(7, 64, 2, 96), (4, 48, 7))

    def test_forecaster_lstm_one_layer_prime_hidden(self):
        self.check("forecaster LSTM(7,31,1)-LN-31-GELU-21", 14,
                   lambda: Forecaster(7, 31, 1, 3), (3, 17, 7))


if __name__ == "__main__":
    unittest.main()
