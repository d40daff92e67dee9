"""Translation of PyTorch (aten) operators into qrt graph nodes.

This table knows nothing about how the model was captured: a capture front end (today
`torch.jit.trace` in qrt_torch.py; `torch.export` on newer PyTorch can be added beside it) resolves
each operator's arguments to the symbolic values below and calls `TABLE[op](ctx, *args)` with the
arguments in the order of the aten schema. Argument values are:
  - TensorRef: a tensor computed when the graph runs (a graph input or a node output);
  - torch.Tensor: a constant (parameter, buffer, or folded at export time);
  - BATCH: the batch size, known only when the graph runs (`x.shape[0]` of a batch-first input);
  - LazyZeros: `torch.zeros(...)` whose shape involves the batch size (nn.LSTM's default state);
  - plain Python values (int, float, bool, str, None, lists, tuples).
Semantics of the target ops: ir/ops.def and the attribute comments in ir/op_kind.h.
"""

import math

import numpy as np
import torch

from qrt_torch_format import INT64_MAX, Node, Value


class ExportError(RuntimeError):
    """A model (or one of its nodes) that cannot be expressed as a qrt graph."""


class TensorRef:
    """A tensor computed at run time: index of a Value in the graph being built."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index

    def __repr__(self):
        return f"TensorRef({self.index})"


class _BatchSize:
    """The run-time batch size (an int the graph only knows when it runs)."""

    def __repr__(self):
        return "BATCH"


BATCH = _BatchSize()


class LazyZeros:
    """torch.zeros(shape) where `shape` holds BATCH: only meaningful as nn.LSTM's default state."""

    def __init__(self, shape):
        self.shape = list(shape)


def is_runtime(arg):
    """True when `arg` (or anything inside a list/tuple) depends on the graph's inputs."""
    if isinstance(arg, (TensorRef, _BatchSize, LazyZeros)):
        return True
    if isinstance(arg, (list, tuple)):
        return any(is_runtime(a) for a in arg)
    return False


class GraphBuilder:
    """The graph under construction, shared by every node's OpContext."""

    def __init__(self, graph, param_names):
        self.graph = graph
        self._param_names = param_names  # id(tensor) -> qualified name ("lstm.weight_ih_l0")
        self._constant_cache = {}  # id(tensor) -> (tensor, value index): a parameter used twice
        self._value_names = set()
        self._node_names = set()

    @staticmethod
    def _unique(base, used):
        name, k = base, 1
        while name in used:
            name = f"{base}_{k}"
            k += 1
        used.add(name)
        return name

    def unique_name(self, base):
        """A tensor name not used yet (tensor names are unique within a graph)."""
        return self._unique(base, self._value_names)

    def unique_node_name(self, base):
        """A node name not used yet (node names are unique within a graph)."""
        return self._unique(base, self._node_names)

    def add_value(self, value):
        self.graph.values.append(value)
        return len(self.graph.values) - 1

    def value(self, ref):
        return self.graph.values[ref.index]

    def constant(self, data, name_hint):
        """Adds a float32 constant; a torch tensor seen before (a shared parameter) is reused."""
        key = id(data) if isinstance(data, torch.Tensor) else None
        if key is not None and key in self._constant_cache:
            return self._constant_cache[key][1]
        if isinstance(data, torch.Tensor):
            name_hint = self._param_names.get(id(data), name_hint)
            array = data.detach().to(torch.float32).cpu().numpy()
        else:
            array = np.asarray(data, dtype=np.float32)
        array = np.ascontiguousarray(array, dtype=np.float32)
        index = self.add_value(Value(name=self.unique_name(name_hint), shape=list(array.shape),
                                     data=array))
        if key is not None:
            self._constant_cache[key] = (data, index)  # holding `data` keeps its id unique
        return index


class OpContext:
    """What one translation function sees: the builder plus the traced facts about its node."""

    def __init__(self, builder, op_name, where, scope, out_shapes, out_dtypes, location=""):
        self.builder = builder
        self.op_name = op_name  # "aten::linear"
        self.where = where  # "'aten::linear' (Model/fc)" for messages
        self.location = location  # "model.py:12" where the model code called the op, if known
        self.scope = scope  # "fc" (module path) or "" for code in the top-level forward
        self.out_shapes = out_shapes  # traced shape per output (list of ints) or None
        self.out_dtypes = out_dtypes  # traced torch dtype per output or None

    # -- errors ---------------------------------------------------------------------------------
    def fail(self, reason):
        suffix = f" (at {self.location})" if self.location else ""
        raise ExportError(f"qrt_torch: cannot export node {self.where} : {reason}{suffix}")

    # -- reading arguments -------------------------------------------------------------------------
    def rank(self, ref):
        return len(self.builder.value(ref).shape)

    def shape(self, ref):
        return list(self.builder.value(ref).shape)

    def batch_axis(self, ref):
        return self.builder.value(ref).batch_axis

    def runtime_tensor(self, arg, what):
        if isinstance(arg, TensorRef):
            return arg
        self._explain_non_tensor(arg, what)
        self.fail(f"{what} must be a tensor computed from the inputs, got {type(arg).__name__}")

    def constant_tensor(self, arg, what):
        """A constant torch tensor argument (a weight); fails naming `what` otherwise."""
        if isinstance(arg, torch.Tensor):
            if not arg.is_floating_point():
                self.fail(f"{what} must be a floating-point tensor, got {arg.dtype}")
            return arg
        if isinstance(arg, TensorRef):
            self.fail(f"{what} must be a constant (a parameter or buffer), but it is computed "
                      "from the inputs")
        self.fail(f"{what} must be a constant tensor, got {type(arg).__name__}")

    def int_arg(self, arg, what):
        if isinstance(arg, bool) or not isinstance(arg, int):
            self._explain_non_tensor(arg, what)
            self.fail(f"{what} must be a constant int, got {arg!r}")
        return arg

    def _explain_non_tensor(self, arg, what):
        if arg is BATCH:
            self.fail(f"{what} uses the batch size as a number, which qrt graphs cannot compute")
        if isinstance(arg, LazyZeros):
            self.fail(f"{what} is a torch.zeros(...) whose shape depends on the batch size; only "
                      "nn.LSTM's default zero state can be exported")

    def operand(self, arg, what):
        """Value index of an elementwise operand: a run-time tensor, or a constant tensor/scalar
        (PyTorch type promotion: the result is float32, so constants are stored as float32)."""
        if isinstance(arg, TensorRef):
            return arg.index
        if isinstance(arg, torch.Tensor):
            if arg.dim() == 0:  # a 0-d constant broadcasts like a 1-element vector
                return self.builder.constant(arg.reshape(1), f"{self.node_base()}.{what}")
            return self.builder.constant(arg, f"{self.node_base()}.{what}")
        if isinstance(arg, (int, float)) and not isinstance(arg, bool):
            return self.builder.constant(np.array([arg], dtype=np.float32),
                                         f"{self.node_base()}.{what}")
        self._explain_non_tensor(arg, what)
        self.fail(f"{what} must be a tensor or a number, got {type(arg).__name__}")

    def node_base(self):
        return self.scope or self.op_name.split("::")[-1]

    # -- emitting nodes ---------------------------------------------------------------------------
    def emit(self, op, inputs, attrs=None, batch_axes=None, num_outputs=1, output_shapes=None):
        """Adds a node; returns TensorRefs to its outputs. `output_shapes` default to the traced
        shapes of this torch node's outputs (the same shapes when one torch op maps to one node)."""
        b = self.builder
        name = b.unique_node_name(f"{self.scope}/{op}" if self.scope else op)
        shapes = output_shapes if output_shapes is not None else self.out_shapes
        outputs = []
        for i in range(num_outputs):
            shape = shapes[i] if shapes is not None and i < len(shapes) else None
            if shape is None:
                self.fail(f"the traced shape of output {i} is unknown")
            axis = batch_axes[i] if batch_axes is not None else None
            vname = b.unique_name(name if num_outputs == 1 else f"{name}:{i}")
            outputs.append(b.add_value(Value(name=vname, shape=list(shape), batch_axis=axis)))
        b.graph.nodes.append(Node(name=name, op=op, attrs=dict(attrs or {}),
                                  inputs=[int(i) for i in inputs], outputs=outputs))
        return [TensorRef(i) for i in outputs]


def _normalize_axis(ctx, axis, rank, what):
    axis = ctx.int_arg(axis, what)
    if not -rank <= axis < max(rank, 1):
        ctx.fail(f"{what}={axis} is out of range for a tensor of rank {rank}")
    return axis % rank if rank else 0


def _broadcast_batch_axis(ctx, operands, out_rank):
    """Where the batch dim lands after NumPy broadcasting (trailing dims are aligned)."""
    for arg in operands:
        if isinstance(arg, TensorRef):
            axis = ctx.batch_axis(arg)
            if axis is not None:
                return axis + out_rank - ctx.rank(arg)
    return None


def _check_float_output(ctx):
    dtype = ctx.out_dtypes[0] if ctx.out_dtypes else None
    if dtype is not None and dtype != torch.float32:
        ctx.fail(f"the result has dtype {dtype}; qrt graphs exported from PyTorch compute in "
                 "float32")


# ---------------------------------------------------------------------------------------------
# Identity-like ops.


def _identity(ctx, x, *_):
    return ctx.runtime_tensor(x, "input")


def _dropout(ctx, x, p, train):
    # Evaluation-mode dropout is the identity; training-mode dropout is random and not exported.
    if train:
        ctx.fail("dropout in training mode; call model.eval() before exporting")
    return ctx.runtime_tensor(x, "input")


# ---------------------------------------------------------------------------------------------
# Activations: y = f(x), same shape.


def _unary(op, attrs_fn=None):
    def translate(ctx, x, *rest):
        x = ctx.runtime_tensor(x, "input")
        _check_float_output(ctx)
        attrs = attrs_fn(ctx, *rest) if attrs_fn else None
        return ctx.emit(op, [x.index], attrs, [ctx.batch_axis(x)])[0]

    return translate


def _leaky_relu_attrs(ctx, negative_slope=0.01):
    if not isinstance(negative_slope, (int, float)) or isinstance(negative_slope, bool):
        ctx.fail(f"negative_slope must be a constant number, got {negative_slope!r}")
    return {"negative_slope": float(negative_slope)}


def _gelu_attrs(ctx, approximate="none"):
    # PyTorch: approximate="none" is x·Φ(x) with erf, "tanh" the tanh formula (GeluAttrs).
    if approximate not in ("none", "tanh"):
        ctx.fail(f"unknown GELU approximation {approximate!r}")
    return {"tanh_approximation": approximate == "tanh"}


# ---------------------------------------------------------------------------------------------
# Elementwise arithmetic with NumPy broadcasting.


def _is_one(alpha):
    return alpha is None or (isinstance(alpha, (int, float)) and alpha == 1)


def _scaled(ctx, operand, alpha, what):
    """alpha·operand for aten's `alpha` argument: folded into a constant, or a Mul node."""
    if _is_one(alpha):
        return operand
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool):
        ctx.fail(f"alpha must be a constant number, got {alpha!r}")
    if isinstance(operand, torch.Tensor):
        return operand * alpha
    if isinstance(operand, (int, float)) and not isinstance(operand, bool):
        return operand * alpha
    operand = ctx.runtime_tensor(operand, what)
    scale = ctx.builder.constant(np.array([alpha], dtype=np.float32), f"{ctx.node_base()}.alpha")
    return ctx.emit("Mul", [operand.index, scale], batch_axes=[ctx.batch_axis(operand)],
                    output_shapes=[ctx.shape(operand)])[0]


def _binary(ctx, op, a, b):
    _check_float_output(ctx)
    ia = ctx.operand(a, "a")
    ib = ctx.operand(b, "b")
    out_rank = len(ctx.out_shapes[0])
    return ctx.emit(op, [ia, ib], batch_axes=[_broadcast_batch_axis(ctx, [a, b], out_rank)])[0]


def _add(ctx, a, b, alpha=1):
    return _binary(ctx, "Add", a, _scaled(ctx, b, alpha, "other"))


def _sub(ctx, a, b, alpha=1):
    return _binary(ctx, "Sub", a, _scaled(ctx, b, alpha, "other"))


def _rsub(ctx, a, b, alpha=1):
    # torch.rsub(a, b, alpha) = b - alpha·a  (also what `2 - x` traces to).
    return _binary(ctx, "Sub", b, _scaled(ctx, a, alpha, "self"))


def _mul(ctx, a, b):
    return _binary(ctx, "Mul", a, b)


def _div(ctx, a, b, rounding_mode=None):
    # x / c becomes x · (1/c): within a rounding of the quotient, well inside float32 tolerances.
    if rounding_mode is not None:
        ctx.fail(f"division with rounding_mode={rounding_mode!r}")
    if isinstance(b, torch.Tensor):
        return _binary(ctx, "Mul", a, torch.reciprocal(b.to(torch.float32)))
    if isinstance(b, (int, float)) and not isinstance(b, bool):
        if b == 0:
            ctx.fail("division by the constant 0")
        return _binary(ctx, "Mul", a, 1.0 / b)
    ctx.fail("division by a tensor computed from the inputs (qrt has no Div op)")


# ---------------------------------------------------------------------------------------------
# Linear layers.


def _linear_node(ctx, x, weight, bias):
    """Linear: y = x·Wᵀ + b with W [N, K] (PyTorch's nn.Linear layout)."""
    x = ctx.runtime_tensor(x, "input")
    if weight.dim() != 2:
        ctx.fail(f"the weight must be 2-D [out, in], got shape {list(weight.shape)}")
    if ctx.shape(x)[-1:] != [weight.shape[1]]:
        ctx.fail(f"input shape {ctx.shape(x)} does not match weight shape {list(weight.shape)}")
    base = ctx.node_base()
    w = ctx.builder.constant(weight, f"{base}.weight")
    b = -1
    if bias is not None:
        if bias.numel() != weight.shape[0]:
            ctx.fail(f"the bias has {bias.numel()} elements, the weight {weight.shape[0]} outputs")
        b = ctx.builder.constant(bias if bias.dim() == 1 else bias.reshape(-1), f"{base}.bias")
    return ctx.emit("Linear", [x.index, w, b], batch_axes=[ctx.batch_axis(x)])[0]


def _linear(ctx, x, weight, bias=None):
    weight = ctx.constant_tensor(weight, "weight")
    if bias is not None:
        bias = ctx.constant_tensor(bias, "bias")
    return _linear_node(ctx, x, weight, bias)


def _matmul(ctx, x, w):
    # x @ W with a constant 2-D W is a Linear with weight Wᵀ (stored contiguous).
    if isinstance(x, torch.Tensor):
        ctx.fail("matmul with a constant left operand (only x @ W with a constant W is supported)")
    x = ctx.runtime_tensor(x, "input")
    w = ctx.constant_tensor(w, "the right operand of matmul")
    if w.dim() != 2 or ctx.rank(x) < 1:
        ctx.fail(f"matmul of a rank-{ctx.rank(x)} tensor by a rank-{w.dim()} constant (only "
                 "x @ W with a 2-D W is supported)")
    return _linear_node(ctx, x, w.t().contiguous(), None)


def _addmm(ctx, bias, x, w, beta=1, alpha=1):
    # torch.addmm(b, x, W, beta, alpha) = beta·b + alpha·(x @ W).
    w = ctx.constant_tensor(w, "mat2")
    bias = ctx.constant_tensor(bias, "the added tensor (self)")
    if w.dim() != 2:
        ctx.fail(f"mat2 must be 2-D, got shape {list(w.shape)}")
    if bias.dim() == 2 and bias.shape[0] == 1:
        bias = bias.reshape(-1)
    if bias.dim() != 1 or bias.shape[0] != w.shape[1]:
        ctx.fail(f"the added tensor must be a per-output bias of {w.shape[1]} elements, got "
                 f"shape {list(bias.shape)}")
    return _linear_node(ctx, x, (w * alpha).t().contiguous(), bias * beta)


# ---------------------------------------------------------------------------------------------
# LSTM.


def _lstm_state(ctx, arg, what):
    """h0/c0: a run-time tensor, or absent (-1) for zeros (PyTorch's default state)."""
    if isinstance(arg, LazyZeros):
        return -1
    if isinstance(arg, torch.Tensor):
        if not torch.any(arg != 0):
            return -1
        return ctx.builder.constant(arg, f"{ctx.node_base()}.{what}")
    ref = ctx.runtime_tensor(arg, what)
    value = ctx.builder.value(ref)
    if ref.index in ctx.builder.graph.inputs and value.batch_axis == 0:
        # The state is [layers, batch, hidden]: its batch dim is dim 1, not the default dim 0.
        value.batch_axis = 1
    return ref.index


def _lstm(ctx, x, hx, params, has_biases, num_layers, dropout, train, bidirectional,
          batch_first):
    if isinstance(hx, TensorRef) or not isinstance(params, (list, tuple)):
        ctx.fail("packed sequences are not supported (pass a padded batch_first tensor)")
    if not batch_first:
        ctx.fail("nn.LSTM with batch_first=False is not supported; use batch_first=True "
                 "(inputs [batch, time, features])")
    if bidirectional:
        ctx.fail("bidirectional nn.LSTM is not supported")
    if train and dropout:
        ctx.fail("nn.LSTM dropout in training mode; call model.eval() before exporting")
    x = ctx.runtime_tensor(x, "input")
    if ctx.rank(x) != 3:
        ctx.fail(f"the input must be [batch, time, features], got shape {ctx.shape(x)}")
    num_layers = ctx.int_arg(num_layers, "num_layers")
    per_layer = 4 if has_biases else 2
    if len(params) != num_layers * per_layer:
        ctx.fail(f"expected {per_layer} weights per layer, got {len(params)} for {num_layers} "
                 "layers (nn.LSTM with proj_size > 0 is not supported)")
    weights = [ctx.constant_tensor(p, f"LSTM weight {i}") for i, p in enumerate(params)]
    hidden = weights[1].shape[1]  # weight_hh_l0: [4H, H]
    in_features = ctx.shape(x)[-1]
    inputs = [x.index]
    if len(hx) != 2:
        ctx.fail(f"expected the state (h0, c0), got {len(hx)} tensors")
    inputs += [_lstm_state(ctx, hx[0], "h0"), _lstm_state(ctx, hx[1], "c0")]
    base = ctx.node_base()
    for layer in range(num_layers):
        w_ih, w_hh = weights[layer * per_layer], weights[layer * per_layer + 1]
        expected_in = in_features if layer == 0 else hidden
        if list(w_ih.shape) != [4 * hidden, expected_in] or list(w_hh.shape) != [4 * hidden,
                                                                                 hidden]:
            ctx.fail(f"layer {layer}: weight shapes {list(w_ih.shape)}, {list(w_hh.shape)} are not "
                     f"[4H, in], [4H, H] with H={hidden} (proj_size > 0 is not supported)")
        inputs.append(ctx.builder.constant(w_ih, f"{base}.weight_ih_l{layer}"))
        inputs.append(ctx.builder.constant(w_hh, f"{base}.weight_hh_l{layer}"))
        if has_biases:
            inputs.append(ctx.builder.constant(weights[layer * per_layer + 2],
                                               f"{base}.bias_ih_l{layer}"))
            inputs.append(ctx.builder.constant(weights[layer * per_layer + 3],
                                               f"{base}.bias_hh_l{layer}"))
        else:
            inputs += [-1, -1]
    x_batch = ctx.batch_axis(x)
    state_batch = 1 if x_batch == 0 else None
    y, h, c = ctx.emit("LSTM", inputs, {"hidden_size": hidden, "num_layers": num_layers},
                       batch_axes=[x_batch, state_batch, state_batch], num_outputs=3)
    return (y, h, c)


# ---------------------------------------------------------------------------------------------
# LayerNorm.


def _layer_norm(ctx, x, normalized_shape, weight, bias, eps, cudnn_enable=True):
    x = ctx.runtime_tensor(x, "input")
    shape = ctx.shape(x)
    if len(normalized_shape) != 1 or normalized_shape[0] != shape[-1]:
        ctx.fail(f"LayerNorm over {list(normalized_shape)} of an input of shape {shape}: only "
                 "normalization over the last dimension is supported")
    base = ctx.node_base()
    inputs = [x.index]
    for arg, what in ((weight, "weight"), (bias, "bias")):
        if arg is None:
            inputs.append(-1)
        else:
            inputs.append(ctx.builder.constant(ctx.constant_tensor(arg, what), f"{base}.{what}"))
    return ctx.emit("LayerNorm", inputs, {"eps": float(eps)}, [ctx.batch_axis(x)])[0]


# ---------------------------------------------------------------------------------------------
# Shapes: size, reshape/view/flatten, permute/transpose, slicing, concatenation.


def _dims(ctx, x):
    """x's dims with BATCH at its batch axis (what `x.shape` means at run time)."""
    shape = ctx.shape(x)
    axis = ctx.batch_axis(x)
    return [BATCH if i == axis else d for i, d in enumerate(shape)]


def _size(ctx, x, dim=None):
    x = ctx.runtime_tensor(x, "input")
    dims = _dims(ctx, x)
    if dim is None:
        return dims
    return dims[_normalize_axis(ctx, dim, len(dims), "dim")]


def _dim(ctx, x):
    return ctx.rank(ctx.runtime_tensor(x, "input"))


def _reshape_to(ctx, x, dims):
    """Reshape x to `dims` (ints, -1, or BATCH). In the Reshape attrs 0 copies the input dim at the
    same position (ir/op_kind.h ReshapeAttrs), which is how the batch size stays dynamic."""
    x = ctx.runtime_tensor(x, "input")
    in_batch = ctx.batch_axis(x)
    if sum(1 for d in dims if d is BATCH) > 1:
        ctx.fail(f"the target shape uses the batch size twice: {dims}")
    has_inferred = any(d is not BATCH and d == -1 for d in dims)
    target, out_batch = [], None
    for i, d in enumerate(dims):
        if d is BATCH:
            out_batch = i
            if in_batch == i:
                target.append(0)
            elif not has_inferred:
                # Every other dim is a constant, so the one inferred dim is the batch.
                target.append(-1)
            else:
                ctx.fail(f"the batch size moves from dim {in_batch} to dim {i} next to an inferred "
                         "(-1) dim, which a qrt Reshape cannot express")
        else:
            d = ctx.int_arg(d, "a target dim")
            if d == 0 or d < -1:
                ctx.fail(f"target dim {d} in shape {dims}")
            target.append(d)
    if target == [0] * ctx.rank(x):
        return x
    return ctx.emit("Reshape", [x.index], {"shape": target}, [out_batch])[0]


def _reshape(ctx, x, shape):
    if not isinstance(shape, (list, tuple)):
        ctx.fail(f"the target shape must be a list, got {shape!r}")
    return _reshape_to(ctx, x, list(shape))


def _flatten(ctx, x, start_dim=0, end_dim=-1):
    x = ctx.runtime_tensor(x, "input")
    dims = _dims(ctx, x)
    if not dims:
        return _reshape_to(ctx, x, [1])
    s = _normalize_axis(ctx, start_dim, len(dims), "start_dim")
    e = _normalize_axis(ctx, end_dim, len(dims), "end_dim")
    if s > e:
        ctx.fail(f"start_dim {start_dim} comes after end_dim {end_dim}")
    group = dims[s:e + 1]
    if len(group) == 1:
        merged = group[0]
    elif any(d is BATCH for d in group):
        merged = -1
    else:
        merged = math.prod(group)
    return _reshape_to(ctx, x, dims[:s] + [merged] + dims[e + 1:])


def _unsqueeze(ctx, x, dim):
    x = ctx.runtime_tensor(x, "input")
    dims = _dims(ctx, x)
    d = _normalize_axis(ctx, dim, len(dims) + 1, "dim")
    return _reshape_to(ctx, x, dims[:d] + [1] + dims[d:])


def _squeeze_dim(ctx, x, dim=None):
    x = ctx.runtime_tensor(x, "input")
    if dim is None:
        ctx.fail("squeeze() without a dim (name the dim to squeeze)")
    dims = _dims(ctx, x)
    d = _normalize_axis(ctx, dim, len(dims), "dim")
    if dims[d] is BATCH:
        ctx.fail("squeezing the batch dimension (its size is only known at run time)")
    if dims[d] != 1:
        return x
    return _reshape_to(ctx, x, dims[:d] + dims[d + 1:])


def _transpose_node(ctx, x, perm):
    if perm == list(range(len(perm))):
        return x
    axis = ctx.batch_axis(x)
    out_batch = perm.index(axis) if axis is not None else None
    return ctx.emit("Transpose", [x.index], {"perm": perm}, [out_batch])[0]


def _permute(ctx, x, dims):
    x = ctx.runtime_tensor(x, "input")
    rank = ctx.rank(x)
    perm = [_normalize_axis(ctx, d, rank, "dims") for d in dims]
    if sorted(perm) != list(range(rank)):
        ctx.fail(f"permute dims {list(dims)} are not a permutation of {rank} axes")
    return _transpose_node(ctx, x, perm)


def _transpose(ctx, x, dim0, dim1):
    x = ctx.runtime_tensor(x, "input")
    rank = ctx.rank(x)
    a = _normalize_axis(ctx, dim0, rank, "dim0")
    b = _normalize_axis(ctx, dim1, rank, "dim1")
    perm = list(range(rank))
    perm[a], perm[b] = perm[b], perm[a]
    return _transpose_node(ctx, x, perm)


def _t(ctx, x):
    x = ctx.runtime_tensor(x, "input")
    return _transpose_node(ctx, x, [1, 0]) if ctx.rank(x) == 2 else x


def _slice(ctx, x, dim=0, start=None, end=None, step=1):
    # Python slicing x[start:end:step] along `dim` (SliceAttrs: negative indices count from the
    # end, out-of-range bounds clamp). The full slices `x[:, ...]` produces are dropped.
    x = ctx.runtime_tensor(x, "input")
    shape = ctx.shape(x)
    axis = _normalize_axis(ctx, dim, len(shape), "dim")
    start = 0 if start is None else ctx.int_arg(start, "start")
    end = INT64_MAX if end is None else ctx.int_arg(end, "end")
    step = ctx.int_arg(step, "step")
    if step <= 0:
        ctx.fail(f"slice step {step} (must be positive)")
    is_batch = ctx.batch_axis(x) == axis
    covers_all = end >= INT64_MAX or (not is_batch and end >= shape[axis])
    if start == 0 and covers_all and step == 1:
        return x
    return ctx.emit("Slice", [x.index],
                    {"axis": axis, "start": start, "end": min(end, INT64_MAX), "step": step,
                     "squeeze": False},
                    [None if is_batch else ctx.batch_axis(x)])[0]


def _select(ctx, x, dim, index):
    # x.select(dim, i) == x[..., i, ...]: a one-element Slice with the axis squeezed away.
    x = ctx.runtime_tensor(x, "input")
    axis = _normalize_axis(ctx, dim, ctx.rank(x), "dim")
    index = ctx.int_arg(index, "index")
    end = INT64_MAX if index == -1 else index + 1  # x[-1:0] would be empty
    in_batch = ctx.batch_axis(x)
    if in_batch is None or in_batch == axis:
        out_batch = None
    else:
        out_batch = in_batch - 1 if in_batch > axis else in_batch
    return ctx.emit("Slice", [x.index],
                    {"axis": axis, "start": index, "end": end, "step": 1, "squeeze": True},
                    [out_batch])[0]


def _cat(ctx, tensors, dim=0):
    if not isinstance(tensors, (list, tuple)) or not tensors:
        ctx.fail("torch.cat needs a non-empty list of tensors")
    _check_float_output(ctx)
    rank = len(ctx.out_shapes[0])
    axis = _normalize_axis(ctx, dim, rank, "dim")
    inputs = [ctx.operand(t, f"tensor{i}") for i, t in enumerate(tensors)]
    out_batch = _broadcast_batch_axis(ctx, tensors, rank)
    if out_batch == axis:
        out_batch = None
    return ctx.emit("Concat", inputs, {"axis": axis}, [out_batch])[0]


def _zeros(ctx, size, *_):
    # torch.zeros((layers, x.size(0), hidden)) is how nn.LSTM builds its default state; the LSTM
    # translation turns it into an absent input. Anywhere else it is rejected when used.
    return LazyZeros(size)


# aten operator -> translation. In-place variants (`relu_`) trace to a fresh value, so they
# translate like their functional forms.
TABLE = {
    "aten::contiguous": _identity,
    "aten::detach": _identity,
    "aten::clone": _identity,
    "aten::dropout": _dropout,
    "aten::dropout_": _dropout,
    "aten::feature_dropout": _dropout,
    "aten::alpha_dropout": _dropout,
    "aten::relu": _unary("Relu"),
    "aten::relu_": _unary("Relu"),
    "aten::leaky_relu": _unary("LeakyRelu", _leaky_relu_attrs),
    "aten::leaky_relu_": _unary("LeakyRelu", _leaky_relu_attrs),
    "aten::gelu": _unary("Gelu", _gelu_attrs),
    "aten::silu": _unary("Silu"),
    "aten::silu_": _unary("Silu"),
    "aten::sigmoid": _unary("Sigmoid"),
    "aten::sigmoid_": _unary("Sigmoid"),
    "aten::tanh": _unary("Tanh"),
    "aten::tanh_": _unary("Tanh"),
    "aten::add": _add,
    "aten::add_": _add,
    "aten::sub": _sub,
    "aten::sub_": _sub,
    "aten::rsub": _rsub,
    "aten::mul": _mul,
    "aten::mul_": _mul,
    "aten::div": _div,
    "aten::div_": _div,
    "aten::linear": _linear,
    "aten::matmul": _matmul,
    "aten::mm": _matmul,
    "aten::addmm": _addmm,
    "aten::lstm": _lstm,
    "aten::layer_norm": _layer_norm,
    "aten::size": _size,
    "aten::dim": _dim,
    "aten::reshape": _reshape,
    "aten::view": _reshape,
    "aten::flatten": _flatten,
    "aten::unsqueeze": _unsqueeze,
    "aten::squeeze": _squeeze_dim,
    "aten::permute": _permute,
    "aten::transpose": _transpose,
    "aten::t": _t,
    "aten::slice": _slice,
    "aten::select": _select,
    "aten::cat": _cat,
    "aten::concat": _cat,
    "aten::zeros": _zeros,
}
