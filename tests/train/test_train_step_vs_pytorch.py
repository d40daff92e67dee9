"""Training steps in qrt against PyTorch: same initial weights (exported with qrt_torch), same batch,
same optimizer. The gradients of the first step and the parameters after a few steps must agree.

Run by CTest with the train_step_tool path in QRT_TRAIN_STEP_TOOL (see CMakeLists.txt).
"""
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "frontends", "pytorch"))
sys.path.insert(0, os.path.join(REPO, "samples", "forecasting"))
import qrt_torch  # noqa: E402
from train import Forecaster  # noqa: E402  (the sample's model, small sizes below)

TOOL = os.environ.get("QRT_TRAIN_STEP_TOOL", "")

# Gradients: both sides sum the same products in float32 but in different orders (GEMM blocking,
# time-step accumulation), so they agree to a few ulps of the largest terms, not bit for bit.
GRAD_RTOL = 1e-4
# Parameters after Adam steps: each step moves a weight by at most ~lr; the required 1e-5.
PARAM_ATOL = 1e-5
LOSS_RTOL = 1e-5


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 13)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(13, 3)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class LstmHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 6, 2, batch_first=True)
        self.norm = nn.LayerNorm(6)
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.head(self.norm(y[:, -1]))


def torch_steps(model, x, y, steps, lr, loss_name, weight_decay, adamw, clip):
    if adamw:
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = nn.MSELoss() if loss_name == "mse" else nn.L1Loss()
    losses, grads = [], None
    for step in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        if step == 0:
            grads = {n: p.grad.detach().clone().numpy() for n, p in model.named_parameters()}
        losses.append(float(loss))
        opt.step()
    return losses, grads


@unittest.skipUnless(TOOL and os.path.exists(TOOL), "QRT_TRAIN_STEP_TOOL not set")
class TrainStepVsPyTorch(unittest.TestCase):
    def check(self, make_model, x_shape, seed, steps=3, lr=1e-2, loss="mse", weight_decay=0.0,
              adamw=False, clip=0.0):
        print(f"\n{make_model.__name__} x{list(x_shape)} seed {seed} loss {loss} "
              f"wd {weight_decay} adamw {adamw} clip {clip}")
        torch.manual_seed(seed)
        model = make_model()
        x = torch.randn(*x_shape)
        with torch.no_grad():
            y = torch.randn_like(model(x))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "model.qrt")
            qrt_torch.export(model, (x[:1],), path, input_names=["x"], output_names=["y"])
            np.save(os.path.join(tmp, "x.npy"), x.numpy())
            np.save(os.path.join(tmp, "y.npy"), y.numpy())
            cmd = [TOOL, path, os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy"), tmp,
                   "--steps", str(steps), "--lr", repr(lr), "--loss", loss,
                   "--weight-decay", repr(weight_decay), "--clip", repr(clip)]
            if adamw:
                cmd.append("--adamw")
            subprocess.run(cmd, check=True)
            with open(os.path.join(tmp, "losses.txt")) as f:
                qrt_losses = [float(v) for v in f.read().split()]
            qrt_grads = {n: np.load(os.path.join(tmp, f"grad.{n}.npy"))
                         for n, _ in model.named_parameters()}
            trained = {t["name"]: t["data"] for t in qrt_torch.read_qrt(
                os.path.join(tmp, "trained.qrt"))["tensors"] if "data" in t}

        ref_losses, ref_grads = torch_steps(model, x, y, steps, lr, loss, weight_decay, adamw, clip)
        np.testing.assert_allclose(qrt_losses, ref_losses, rtol=LOSS_RTOL)
        for name, ref in ref_grads.items():
            scale = float(np.abs(ref).max())
            self.assertGreater(scale, 0.0, f"{name}: all-zero reference gradient")
            np.testing.assert_allclose(qrt_grads[name], ref, rtol=0,
                                       atol=GRAD_RTOL * scale, err_msg=f"gradient of {name}")
        worst = 0.0
        for name, p in model.named_parameters():
            got = trained[name]
            ref = p.detach().numpy()
            worst = max(worst, float(np.abs(got - ref).max()))
            np.testing.assert_allclose(got, ref, rtol=0, atol=PARAM_ATOL,
                                       err_msg=f"parameter {name} after {steps} steps")
        print(f"  losses {qrt_losses}; max parameter difference {worst:.2e}")

    def test_mlp_adam(self):
        self.check(Mlp, (4, 3, 5), seed=1)

    def test_mlp_adamw_mae_clipped(self):
        self.check(Mlp, (7, 5), seed=2, loss="mae", weight_decay=0.05, adamw=True, clip=0.5)

    def test_lstm_adam(self):
        self.check(LstmHead, (3, 5, 4), seed=3)

    def test_lstm_adam_l2(self):
        self.check(LstmHead, (2, 7, 4), seed=4, weight_decay=0.01, clip=1.0)

    def test_forecaster_adam(self):
        def small_forecaster():
            return Forecaster(lookback=12, horizon=4, channels=7, hidden=8)
        small_forecaster.__name__ = "Forecaster"
        self.check(small_forecaster, (5, 12, 7), seed=5)


if __name__ == "__main__":
    unittest.main()
