#!/usr/bin/python3
"""Writes PyTorch autograd gradients for test_torch_gradients.cpp.

For each case: random f32 inputs and upstream gradients dy (seeded), the forward outputs and
dL/d(inputs) of L = sum(dy * y) computed by torch autograd in float64 on the same f32 values.
One text file per case in OUT_DIR; each tensor is a line "name rank dims..." followed by a line of
its values (inputs and dy as exact f32 values, %.9g; gradients as float64, %.17g).

Usage: /usr/bin/python3 torch_gradient_fixtures.py OUT_DIR
"""
import os
import sys

import torch

SEED = 20240517


def write(path, tensors):
    with open(path, "w") as f:
        for name, t in tensors:
            t = t.detach()
            fmt = "%.9g" if t.dtype == torch.float32 else "%.17g"
            f.write("%s %d %s\n" % (name, t.dim(), " ".join(str(d) for d in t.shape)))
            f.write(" ".join(fmt % v for v in t.reshape(-1).tolist()) + "\n")


def f32(*shape, lo=-1.0, hi=1.0):
    return torch.rand(*shape, dtype=torch.float32) * (hi - lo) + lo


def run(inputs, forward, parameters=None):
    """inputs: list of (name, f32 tensor); parameters: name -> a module's float64 parameter that
    stands for that input (its value must equal the input's). Returns the tensors to write:
    inputs, outputs, dys, gradients."""
    parameters = parameters or {}
    leaves = [(n, parameters[n] if n in parameters else t.double().requires_grad_(True))
              for n, t in inputs]
    outputs = forward(*[t for _, t in leaves])
    dys = [f32(*y.shape) for y in outputs]
    loss = sum((y * dy.double()).sum() for y, dy in zip(outputs, dys))
    loss.backward()
    tensors = list(inputs)
    tensors += [("y%d" % i, y.float()) for i, y in enumerate(outputs)]
    tensors += [("dy%d" % i, dy) for i, dy in enumerate(dys)]
    tensors += [("d_" + n, t.grad) for n, t in leaves]
    return tensors


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(SEED)

    # Linear: x [B, T, K] -> [B, T, N].
    write(os.path.join(out_dir, "linear.txt"),
          run([("x", f32(3, 5, 7)), ("w", f32(4, 7)), ("b", f32(4))],
              lambda x, w, b: [torch.nn.functional.linear(x, w, b)]))

    # LSTM, 2 layers, T = 5, batch_first, with h0/c0 and both biases; outputs y, h_n, c_n.
    B, T, C, H, L = 3, 5, 3, 6, 2
    lstm = torch.nn.LSTM(C, H, num_layers=L, batch_first=True).double()
    names = []
    for l in range(L):
        names += ["weight_ih_l%d" % l, "weight_hh_l%d" % l, "bias_ih_l%d" % l, "bias_hh_l%d" % l]
    module_params = {n: getattr(lstm, n) for n in names}
    with torch.no_grad():  # round the parameters to f32 values, what qrt is given
        for p in module_params.values():
            p.copy_(p.float().double())
    params = [(n, p.detach().float()) for n, p in module_params.items()]

    def lstm_forward(x, h0, c0, *weights):
        # The module's parameters are the leaves of the weights (nn.LSTM reads its own).
        y, (h_n, c_n) = lstm(x, (h0, c0))
        return [y, h_n, c_n]

    write(os.path.join(out_dir, "lstm.txt"),
          run([("x", f32(B, T, C)), ("h0", f32(L, B, H)), ("c0", f32(L, B, H))] + params,
              lstm_forward, module_params))

    # LayerNorm over the last dim, eps 1e-5.
    write(os.path.join(out_dir, "layer_norm.txt"),
          run([("x", f32(4, 9)), ("gamma", f32(9, lo=0.5, hi=1.5)), ("beta", f32(9))],
              lambda x, g, b: [torch.nn.functional.layer_norm(x, (9,), g, b, 1e-5)]))

    # Gelu, exact and tanh approximation.
    for approximate in ("none", "tanh"):
        write(os.path.join(out_dir, "gelu_%s.txt" % approximate),
              run([("x", f32(5, 7, lo=-3.0, hi=3.0))],
                  lambda x: [torch.nn.functional.gelu(x, approximate=approximate)]))

    # Broadcasting Mul: [3, 1, 5] * [4, 1] -> [3, 4, 5].
    write(os.path.join(out_dir, "mul_broadcast.txt"),
          run([("a", f32(3, 1, 5)), ("b", f32(4, 1))], lambda a, b: [a * b]))


if __name__ == "__main__":
    main()
