"""A small NumPy interpreter for exported `.qrt` graphs, written from ir/ops.def and ir/op_kind.h.

It checks what the exporter wrote (attributes, input order, absent inputs) independently of the
C++ runtime: if PyTorch and this interpreter agree but `qrt run` does not, the fault is in C++.
"""

import math

import numpy as np

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _lstm(attrs, x, h0, c0, weights):
    # PyTorch nn.LSTM, batch_first, gates i, f, g, o:
    #   i = σ(W_ii x + b_ii + W_hi h + b_hi), f = σ(...), g = tanh(...), o = σ(...)
    #   c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')
    hidden, layers = attrs["hidden_size"], attrs["num_layers"]
    batch, steps, _ = x.shape
    h_n = np.zeros((layers, batch, hidden))
    c_n = np.zeros((layers, batch, hidden))
    seq = x
    for layer in range(layers):
        w_ih, w_hh, b_ih, b_hh = weights[4 * layer:4 * layer + 4]
        h = np.zeros((batch, hidden)) if h0 is None else h0[layer]
        c = np.zeros((batch, hidden)) if c0 is None else c0[layer]
        out = np.zeros((batch, steps, hidden))
        for t in range(steps):
            gates = seq[:, t] @ w_ih.T + h @ w_hh.T
            if b_ih is not None:
                gates = gates + b_ih
            if b_hh is not None:
                gates = gates + b_hh
            i, f, g, o = np.split(gates, 4, axis=1)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
            out[:, t] = h
        h_n[layer], c_n[layer] = h, c
        seq = out
    return [seq, h_n, c_n]


def _reshape(x, target):
    shape = [x.shape[i] if d == 0 else d for i, d in enumerate(target)]
    return [x.reshape(shape)]


def _slice(x, a):
    index = [slice(None)] * x.ndim
    index[a["axis"]] = slice(a["start"], a["end"], a["step"])
    y = x[tuple(index)]
    if a["squeeze"]:
        assert y.shape[a["axis"]] == 1, "squeeze of a slice that is not one element"
        y = np.squeeze(y, axis=a["axis"])
    return [y]


def _gelu(x, tanh_approximation):
    if tanh_approximation:  # PyTorch approximate="tanh"
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _layer_norm(x, gamma, beta, eps):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean)**2).mean(axis=-1, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return [y]


def run(model, inputs):
    """Evaluates a parsed model (qrt_torch.read_qrt) on {input name: array}, in float64."""
    tensors = model["tensors"]
    values = {}
    for i, t in enumerate(tensors):
        if "data" in t:
            values[i] = np.asarray(t["data"], dtype=np.float64)
    for i in model["inputs"]:
        values[i] = np.asarray(inputs[tensors[i]["name"]], dtype=np.float64)

    for node in model["nodes"]:
        args = [values[i] if i >= 0 else None for i in node["inputs"]]
        a, op = node["attrs"], node["op"]
        if op == "Linear":
            y = args[0] @ args[1].T
            outs = [y + args[2] if args[2] is not None else y]
        elif op == "LSTM":
            outs = _lstm(a, args[0], args[1], args[2], args[3:])
        elif op == "LayerNorm":
            outs = _layer_norm(args[0], args[1], args[2], a["eps"])
        elif op == "Relu":
            outs = [np.maximum(args[0], 0.0)]
        elif op == "LeakyRelu":
            outs = [np.where(args[0] >= 0, args[0], args[0] * a["negative_slope"])]
        elif op == "Gelu":
            outs = [_gelu(args[0], a["tanh_approximation"])]
        elif op == "Silu":
            outs = [args[0] * _sigmoid(args[0])]
        elif op == "Sigmoid":
            outs = [_sigmoid(args[0])]
        elif op == "Tanh":
            outs = [np.tanh(args[0])]
        elif op == "Add":
            outs = [args[0] + args[1]]
        elif op == "Sub":
            outs = [args[0] - args[1]]
        elif op == "Mul":
            outs = [args[0] * args[1]]
        elif op == "Reshape":
            outs = _reshape(args[0], a["shape"])
        elif op == "Transpose":
            outs = [np.transpose(args[0], a["perm"])]
        elif op == "Slice":
            outs = _slice(args[0], a)
        elif op == "Concat":
            outs = [np.concatenate(args, axis=a["axis"])]
        else:
            raise AssertionError(f"reference interpreter: unknown op {op}")
        assert len(outs) == len(node["outputs"]), node["name"]
        for index, value in zip(node["outputs"], outs):
            values[index] = value
    return {tensors[i]["name"]: values[i] for i in model["outputs"]}
