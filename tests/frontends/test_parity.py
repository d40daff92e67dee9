"""Parity: PyTorch models exported by qrt_torch, run by `qrt run`, compared with PyTorch.

Every model and input is drawn from a fixed seed printed with the test; shapes mix 1 and primes.
"""

import unittest

import torch
import torch.nn as nn
import torch.nn.functional as F

from exporter_test_support import ParityCase


def randn(seed, *shape, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g) * scale


def randomize_(module, seed):
    """Non-default parameters (LayerNorm starts at ones/zeros, which would hide a missing γ/β)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return module


class LstmStack(nn.Module):
    """`y, _ = self.lstm(x)` then the last time step through a Linear head."""

    def __init__(self, c, h, layers, bias, out):
        super().__init__()
        self.lstm = nn.LSTM(c, h, num_layers=layers, bias=bias, batch_first=True)
        self.head = nn.Linear(h, out)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.head(y[:, -1])


class LstmWithState(nn.Module):
    """`out, (h, c) = self.lstm(x, (h0, c0))`, returning all three."""

    def __init__(self, c, h, layers, bias):
        super().__init__()
        self.lstm = nn.LSTM(c, h, num_layers=layers, bias=bias, batch_first=True)

    def forward(self, x, h0, c0):
        out, (h, c) = self.lstm(x, (h0, c0))
        return out, h, c


class LstmAllOutputsDefaultState(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 6, num_layers=2, batch_first=True)

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        return out, h, c


class Norm(nn.Module):
    def __init__(self, d, affine):
        super().__init__()
        self.norm = nn.LayerNorm(d, eps=1e-4, elementwise_affine=affine)

    def forward(self, x):
        return self.norm(x)


class FunctionalNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(d))
        self.bias = nn.Parameter(torch.randn(d))

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, 1e-5)


class Activation(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


ACTIVATIONS = {
    "ReLU": nn.ReLU(),
    "ReLU_inplace": nn.ReLU(inplace=True),
    "LeakyReLU": nn.LeakyReLU(0.2),
    "GELU": nn.GELU(),
    "GELU_tanh": nn.GELU(approximate="tanh"),
    "SiLU": nn.SiLU(),
    "Sigmoid": nn.Sigmoid(),
    "Tanh": nn.Tanh(),
    "F.relu": F.relu,
    "F.leaky_relu": lambda x: F.leaky_relu(x, 0.07),
    "F.leaky_relu_default": F.leaky_relu,
    "F.gelu": F.gelu,
    "F.gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "F.silu": F.silu,
    "torch.sigmoid": torch.sigmoid,
    "torch.tanh": torch.tanh,
    "Tensor.relu": lambda x: x.relu(),
}


class Slicing(nn.Module):
    def forward(self, y):
        return (y[:, -1], y[:, 0], y[:, 2], y[:, -5:], y[..., ::2], y[:, 1:-1], y[:, ::3, 1:],
                y[-1], y[:, -2:-1])


class Reshaping(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 3)

    def forward(self, x):  # x [B, 7, 5]
        a = x.reshape(x.shape[0], -1)
        b = x.view(x.size(0), 5, 7)
        c = self.fc(x).flatten(1)
        d = x.permute(0, 2, 1)
        e = x.transpose(1, 2).contiguous()
        f = x.flatten(0, 1)
        g = x.unsqueeze(1) * 2.0
        h = self.fc(x[:, -1]).t()
        return a, b, c, d, e, f, g, h


class Concatenate(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 2)

    def forward(self, x, y):  # x [B, T, 5], y [B, T, 3]
        return torch.cat([x, y], dim=-1), torch.cat((x, self.fc(x), x), 2), torch.cat([x, x], 1)


class Arithmetic(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("offset", torch.randn(5))
        self.scale = nn.Parameter(torch.randn(1, 1, 5))

    def forward(self, x, y):  # x [B, T, 5], y [B, 1, 5]
        return (x + 1.5, x - 0.25, 2 - x, x * 3, 3 * x, -2.0 * x + y,
                x + y, x - y, x * y, y - x, x + self.offset, x * self.scale - self.offset,
                torch.rsub(x, y), torch.add(x, y, alpha=2), torch.sub(x, y, alpha=0.5),
                x / 4.0, x * torch.tensor(3.0), x + x.shape[1])


class Forecaster(nn.Module):
    """A whole model in the intended style: LSTM -> LayerNorm -> GELU -> Linear heads."""

    def __init__(self, c=7, h=16, horizon=3):
        super().__init__()
        self.lstm = nn.LSTM(c, h, num_layers=2, batch_first=True)
        self.norm = nn.LayerNorm(h)
        self.proj = nn.Linear(h, h)
        self.head = nn.Linear(h * 2, horizon * c)
        self.horizon, self.c = horizon, c
        self.dropout = nn.Dropout(0.2)

    def forward(self, x):
        y, _ = self.lstm(x)
        z = F.gelu(self.proj(self.dropout(self.norm(y))))
        last = torch.cat([z[:, -1], z[:, -2]], dim=-1)
        out = self.head(last).reshape(x.shape[0], self.horizon, self.c)
        return out + x[:, -1:, :]


class MatmulForms(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(6, 4))
        self.b = nn.Parameter(torch.randn(4))

    def forward(self, x):  # x [B, 6]
        return torch.matmul(x, self.w), torch.addmm(self.b, x, self.w), F.linear(x, self.w.t())


class LstmParity(ParityCase):
    def test_lstm_stacks(self):
        # layers 1-3, with and without bias, batch 1 and prime sizes.
        configs = [(1, True, 1, 9, 5, 11), (2, True, 3, 7, 3, 8), (3, True, 2, 13, 6, 5),
                   (1, False, 2, 5, 4, 7), (2, False, 1, 11, 2, 3), (3, False, 3, 4, 7, 6)]
        for i, (layers, bias, b, t, c, h) in enumerate(configs):
            seed = 100 + i
            with self.subTest(layers=layers, bias=bias, seed=seed):
                torch.manual_seed(seed)
                model = LstmStack(c, h, layers, bias, out=3)
                x = randn(seed, b, t, c)
                self.check_parity(model, (x,), seed, label=f"LstmStack L={layers} bias={bias}")

    def test_lstm_with_state_returns_all_outputs(self):
        for i, (layers, bias) in enumerate([(1, True), (2, False), (3, True)]):
            seed = 200 + i
            with self.subTest(layers=layers, bias=bias, seed=seed):
                torch.manual_seed(seed)
                b, t, c, h = 3, 5, 4, 7
                model = LstmWithState(c, h, layers, bias)
                inputs = (randn(seed, b, t, c), randn(seed + 1, layers, b, h),
                          randn(seed + 2, layers, b, h))
                self.check_parity(model, inputs, seed, label=f"LstmWithState L={layers}")

    def test_lstm_all_outputs_default_state(self):
        seed = 210
        torch.manual_seed(seed)
        self.check_parity(LstmAllOutputsDefaultState(), (randn(seed, 2, 6, 4),), seed)

    def test_forecaster(self):
        seed = 220
        torch.manual_seed(seed)
        self.check_parity(Forecaster(), (randn(seed, 4, 12, 7),), seed)


class LayerNormParity(ParityCase):
    def test_layer_norm_with_and_without_affine(self):
        for i, affine in enumerate([True, False]):
            seed = 300 + i
            with self.subTest(affine=affine, seed=seed):
                model = randomize_(Norm(13, affine), seed)
                x = randn(seed, 2, 5, 13, scale=3.0) + 1.0
                self.check_parity(model, (x,), seed, label=f"LayerNorm affine={affine}")

    def test_functional_layer_norm(self):
        seed = 310
        torch.manual_seed(seed)
        self.check_parity(FunctionalNorm(7), (randn(seed, 3, 7),), seed)


class ActivationParity(ParityCase):
    def test_every_activation(self):
        for i, (name, fn) in enumerate(ACTIVATIONS.items()):
            seed = 400 + i
            with self.subTest(activation=name, seed=seed):
                x = randn(seed, 3, 5, 7, scale=3.0)  # covers the tails of GELU/SiLU/sigmoid
                self.check_parity(Activation(fn), (x,), seed, label=name)


class ShapeOpParity(ParityCase):
    def test_slicing(self):
        seed = 500
        self.check_parity(Slicing(), (randn(seed, 3, 7, 5),), seed)

    def test_reshaping(self):
        seed = 510
        torch.manual_seed(seed)
        self.check_parity(Reshaping(), (randn(seed, 2, 7, 5),), seed)

    def test_concatenation(self):
        seed = 520
        torch.manual_seed(seed)
        self.check_parity(Concatenate(), (randn(seed, 2, 3, 5), randn(seed + 1, 2, 3, 3)), seed)


class ArithmeticParity(ParityCase):
    def test_scalars_constants_and_broadcasting(self):
        seed = 600
        torch.manual_seed(seed)
        self.check_parity(Arithmetic(), (randn(seed, 3, 4, 5), randn(seed + 1, 3, 1, 5)), seed)

    def test_matmul_forms(self):
        seed = 610
        torch.manual_seed(seed)
        self.check_parity(MatmulForms(), (randn(seed, 5, 6),), seed)


class DynamicBatchParity(ParityCase):
    def test_run_batch_differs_from_trace_batch(self):
        seed = 700
        torch.manual_seed(seed)
        model = Forecaster()
        self.check_parity(model, (randn(seed, 2, 12, 7),), seed,
                          run_inputs=(randn(seed + 1, 5, 12, 7),),
                          label="Forecaster traced at batch 2, run at batch 5")

    def test_state_inputs_with_another_batch(self):
        seed = 710
        torch.manual_seed(seed)
        model = LstmWithState(3, 5, 2, True)
        trace = (randn(seed, 2, 4, 3), randn(seed + 1, 2, 2, 5), randn(seed + 2, 2, 2, 5))
        run = (randn(seed + 3, 7, 4, 3), randn(seed + 4, 2, 7, 5), randn(seed + 5, 2, 7, 5))
        self.check_parity(model, trace, seed, run_inputs=run, label="LstmWithState batch 2 -> 7")

    def test_reshapes_with_another_batch(self):
        seed = 720
        torch.manual_seed(seed)
        self.check_parity(Reshaping(), (randn(seed, 3, 7, 5),), seed,
                          run_inputs=(randn(seed + 1, 1, 7, 5),), label="Reshaping batch 3 -> 1")

    def test_named_inputs_and_outputs(self):
        seed = 730
        torch.manual_seed(seed)
        inputs = (randn(seed, 2, 3, 3), randn(seed + 1, 1, 2, 4), randn(seed + 2, 1, 2, 4))
        self.check_parity(LstmWithState(3, 4, 1, True), inputs, seed,
                          input_names=["x", "h0", "c0"], output_names=["y", "h_n", "c_n"])


if __name__ == "__main__":
    unittest.main()
