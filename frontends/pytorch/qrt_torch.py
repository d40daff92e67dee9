"""Export a PyTorch nn.Module to a `.qrt` model file.

    import qrt_torch
    qrt_torch.export(model, (x,), "model.qrt")            # inputs input0.., outputs output0..
    qrt_torch.export(model, (x, h0, c0), "m.qrt", input_names=["x", "h0", "c0"])

Capture is `torch.jit.trace` (model in eval mode, under torch.no_grad) followed by TorchScript
inlining: unlike `torch.fx.symbolic_trace` on PyTorch 1.13, tracing records models that unpack an
LSTM's output tuple. The walk below only resolves TorchScript's structure (constants, attributes,
tuples, lists, sizes) into symbolic values; the operator translation lives in qrt_torch_ops.TABLE,
so a `torch.export` capture for newer PyTorch can be added as a second walker over the same table.

Dynamic batch: by default dim 0 of every input (dim 1 of an LSTM state input [layers, batch,
hidden]) is written as -1, and `x.shape[0]` in model code becomes "copy the input dim" in Reshape
attributes, so the exported graph runs with any batch size.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import qrt_torch_format as fmt  # noqa: E402
from qrt_torch_ops import (TABLE, ExportError, GraphBuilder, OpContext, TensorRef,  # noqa: E402
                           is_runtime)

__version__ = "0.1.0"
PRODUCER = f"qrt_torch {__version__}"

__all__ = ["export", "ExportError", "read_qrt", "__version__"]


def read_qrt(path):
    """Parses a `.qrt` file into plain Python structures (for inspection and tests)."""
    return fmt.read_file(path)


def export(model, example_inputs, path, input_names=None, output_names=None, dynamic_batch=True):
    """Traces `model` on `example_inputs` (a tensor or a tuple of tensors) and writes `path`.

    input_names / output_names: graph tensor names (default input0.., output0..), one per
        tensor input (nested tuples are flattened) and per returned tensor.
    dynamic_batch: write the batch dim of every input as -1 (dim 0; dim 1 of an LSTM state) so
        the graph runs with any batch size; False writes the traced shapes.

    Returns a summary dict: input/output names and stored shapes, the op counts, the file size.
    Raises ExportError naming the node (module scope, source line) that cannot be exported, and
    qrt_torch_format.FormatError when the schema code cannot be generated (flatc missing).
    The model's train/eval mode is restored afterwards; no file is written on failure.
    """
    if not isinstance(model, torch.nn.Module):
        raise ExportError("qrt_torch: export expects a torch.nn.Module, got "
                          f"{type(model).__name__}")
    inputs = example_inputs if isinstance(example_inputs, tuple) else (example_inputs,)
    flat_inputs = _flatten_example(inputs)
    names_in = list(input_names) if input_names is not None else [
        f"input{i}" for i in range(len(flat_inputs))]
    if len(names_in) != len(flat_inputs) or len(set(names_in)) != len(names_in):
        raise ExportError(f"qrt_torch: {len(flat_inputs)} inputs need as many distinct names, got "
                          f"{names_in}")

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            traced = torch.jit.trace(model, inputs, check_trace=False)
            graph = traced.graph.copy()
            torch._C._jit_pass_inline(graph)
            capture = _TorchScriptCapture(model, names_in, dynamic_batch)
            qgraph = capture.run(graph, inputs, output_names)
    finally:
        model.train(was_training)

    qgraph.metadata.update({"source": "torch.jit.trace", "torch_version": torch.__version__,
                            "model_class": type(model).__name__})
    size = fmt.write_file(qgraph, PRODUCER, path)
    ops = {}
    for n in qgraph.nodes:
        ops[n.op] = ops.get(n.op, 0) + 1
    return {
        "path": path,
        "bytes": size,
        "inputs": [(qgraph.values[i].name, list(qgraph.values[i].shape)) for i in qgraph.inputs],
        "outputs": [(qgraph.values[i].name, list(qgraph.values[i].shape))
                    for i in qgraph.outputs],
        "ops": ops,
    }


def _flatten_example(obj):
    if isinstance(obj, torch.Tensor):
        if obj.dtype != torch.float32:
            raise ExportError(f"qrt_torch: example inputs must be float32 tensors, got {obj.dtype}")
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for item in obj for t in _flatten_example(item)]
    raise ExportError(f"qrt_torch: example inputs must be tensors or tuples of tensors, got "
                      f"{type(obj).__name__}")


def _module_path(node):
    """'encoder.fc' for a node recorded inside model.encoder.fc, '' at the top level."""
    scope = node.scopeName()
    if not scope:
        return ""
    return scope.split("/")[-1].replace("__module.", "", 1).replace("__module", "")


def _source_line(node):
    """The innermost frame of the recorded call stack outside PyTorch itself ("file.py:12")."""
    try:
        text = node.sourceRange()
    except RuntimeError:
        return ""
    skip = (os.path.dirname(torch.__file__), os.path.dirname(os.path.abspath(__file__)))
    frames = [line.strip() for line in text.splitlines() if "): " in line]
    for frame in frames:
        location = frame.split("): ")[0]
        if "(" in location and not location.startswith(skip):
            file, line = location.rsplit("(", 1)
            return f"{file}:{line}"
    return ""


def _traced_type(value):
    t = value.type()
    if isinstance(t, torch._C.TensorType):
        sizes = t.sizes()
        return (list(sizes) if sizes is not None else None), t.dtype()
    return None, None


def _flatten_outputs(obj, out):
    if isinstance(obj, (tuple, list)):
        for item in obj:
            _flatten_outputs(item, out)
    else:
        out.append(obj)
    return out


class _TorchScriptCapture:
    """Walks an inlined TorchScript graph from torch.jit.trace, building a qrt graph."""

    # TorchScript structure resolved here rather than in the op table.
    _PASSTHROUGH = ("prim::NumToTensor", "aten::Int", "aten::Float", "aten::ScalarImplicit",
                    "aten::IntImplicit", "aten::FloatImplicit")

    def __init__(self, model, input_names, dynamic_batch):
        self.model = model
        self.model_name = type(model).__name__
        self.input_names = input_names
        self.dynamic_batch = dynamic_batch
        param_names = {}
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            param_names.setdefault(id(t), name)
        self.graph = fmt.Graph()
        self.builder = GraphBuilder(self.graph, param_names)
        for name in input_names:
            self.builder.unique_name(name)  # reserve: no other tensor takes an input's name
        self.env = {}

    # -- inputs -----------------------------------------------------------------------------------
    def _make_inputs(self, example, names):
        if isinstance(example, torch.Tensor):
            shape = list(example.shape)
            batch = 0 if self.dynamic_batch and shape else None
            index = self.builder.add_value(fmt.Value(name=next(names), shape=shape,
                                                     batch_axis=batch))
            self.graph.inputs.append(index)
            return TensorRef(index)
        return tuple(self._make_inputs(item, names) for item in example)

    # -- node labels ------------------------------------------------------------------------------
    def _where(self, node):
        path = _module_path(node)
        scope = "/".join([self.model_name] + (path.split(".") if path else []))
        where = f"'{node.kind()}' ({scope})"
        return where, path

    def _fail(self, node, reason):
        where, _ = self._where(node)
        line = _source_line(node)
        suffix = f" (at {line})" if line else ""
        raise ExportError(f"qrt_torch: cannot export node {where} : {reason}{suffix}")

    # -- the walk ---------------------------------------------------------------------------------
    def run(self, graph, example_inputs, output_names):
        jit_inputs = list(graph.inputs())
        self.env[jit_inputs[0]] = self.model  # `self`: attributes resolve on the Python module
        names = iter(self.input_names)
        for value, example in zip(jit_inputs[1:], example_inputs):
            self.env[value] = self._make_inputs(example, names)

        for node in graph.nodes():
            args = [self.env[v] for v in node.inputs()]
            try:
                results = self._translate(node, args)
            except ExportError as e:
                if "cannot export node" in str(e):
                    raise
                self._fail(node, str(e).replace("qrt_torch: ", ""))
            outputs = list(node.outputs())
            if len(results) != len(outputs):
                self._fail(node, f"produced {len(results)} values for {len(outputs)} outputs")
            for value, result in zip(outputs, results):
                self.env[value] = result

        returned = [self.env[v] for v in graph.return_node().inputs()]
        self._set_outputs(_flatten_outputs(returned, []), output_names)
        _prune(self.graph)
        _write_shapes(self.graph)
        return self.graph

    def _translate(self, node, args):
        """The symbolic value of each of the node's outputs, as a list."""
        kind = node.kind()
        if kind == "prim::Constant":
            return [node.output().toIValue()]
        if kind == "prim::GetAttr":
            return [self._get_attr(node, args[0])]
        if kind == "prim::ListConstruct":
            return [list(args)]
        if kind == "prim::TupleConstruct":
            return [tuple(args)]
        if kind in ("prim::ListUnpack", "prim::TupleUnpack"):
            return list(args[0])
        if kind == "prim::TupleIndex" or (kind == "aten::__getitem__" and
                                          isinstance(args[0], (list, tuple))):
            return [args[0][args[1]]]
        if kind in self._PASSTHROUGH:
            return [self._passthrough(kind, args[0])]
        if kind.startswith("aten::") and not is_runtime(args):
            return self._fold(node, args)
        translate = TABLE.get(kind)
        if translate is None:
            self._fail(node, "unsupported op")
        where, path = self._where(node)
        out_types = [_traced_type(v) for v in node.outputs()]
        ctx = OpContext(self.builder, kind, where, path, [t[0] for t in out_types],
                        [t[1] for t in out_types], _source_line(node))
        try:
            result = translate(ctx, *args)
        except TypeError as e:  # an overload with arguments the translation does not take
            self._fail(node, f"unsupported form of the op ({e})")
        return [result] if node.outputsSize() == 1 else list(result)

    def _get_attr(self, node, obj):
        name = node.s("name")
        try:
            return getattr(obj, name)
        except AttributeError:
            self._fail(node, f"cannot resolve attribute {name!r} on {type(obj).__name__}")

    @staticmethod
    def _passthrough(kind, arg):
        # x.shape[0] traces to aten::size -> prim::NumToTensor -> aten::Int: the same number.
        if isinstance(arg, torch.Tensor) and kind != "prim::NumToTensor":
            arg = arg.item()
        if kind == "prim::NumToTensor" and isinstance(arg, (int, float)):
            return torch.tensor(arg)
        if kind in ("aten::Float", "aten::FloatImplicit") and isinstance(arg, int):
            return float(arg)
        if kind in ("aten::Int", "aten::IntImplicit") and isinstance(arg, float):
            return int(arg)
        return arg

    def _fold(self, node, args):
        """Runs an op whose inputs are all constants (e.g. `weight.t()`) at export time."""
        try:
            schema = torch._C.parse_schema(node.schema())
            namespace, name = schema.name.split("::")
            packet = getattr(getattr(torch.ops, namespace), name)
            op = getattr(packet, schema.overload_name or "default")
            positional, keyword = [], {}
            for arg, spec in zip(args, schema.arguments):
                if spec.kwarg_only:
                    keyword[spec.name] = arg
                else:
                    positional.append(arg)
            result = op(*positional, **keyword)
        except Exception as e:  # noqa: BLE001 - any failure becomes a message naming the node
            self._fail(node, f"could not evaluate the constant expression ({e})")
        if node.outputsSize() > 1:
            return list(result)
        return [result]

    # -- outputs ----------------------------------------------------------------------------------
    def _set_outputs(self, refs, output_names):
        names = list(output_names) if output_names is not None else [
            f"output{i}" for i in range(len(refs))]
        if len(names) != len(refs) or len(set(names)) != len(names):
            raise ExportError(f"qrt_torch: the model returns {len(refs)} tensors, which need as "
                              f"many distinct output names, got {names}")
        clash = set(names) & set(self.input_names)
        if clash:
            raise ExportError(f"qrt_torch: output names {sorted(clash)} are also input names")
        outputs = []
        for i, ref in enumerate(refs):
            if not isinstance(ref, TensorRef):
                raise ExportError(f"qrt_torch: output {i} ({names[i]!r}) does not depend on the "
                                  f"inputs (it is a {type(ref).__name__}); only computed tensors "
                                  "can be exported as outputs")
            if ref.index in self.graph.inputs or ref.index in outputs:
                ref = self._copy(ref)  # a value is one output and never also an input
            outputs.append(ref.index)
        taken = set(names)
        for v in self.graph.values:  # free the output names
            if v.name in taken:
                v.name = self.builder.unique_name(v.name + "_")
        for index, name in zip(outputs, names):
            self.graph.values[index].name = name
        self.graph.outputs = outputs

    def _copy(self, ref):
        """A Reshape whose attrs copy every dim: the identity, as a distinct value."""
        value = self.builder.value(ref)
        if not value.shape:
            raise ExportError(f"qrt_torch: cannot return the scalar {value.name!r} as an output "
                              "twice or as an input")
        ctx = OpContext(self.builder, "copy", "'copy' (outputs)", "", [value.shape], [None])
        return ctx.emit("Reshape", [ref.index], {"shape": [0] * len(value.shape)},
                        [value.batch_axis])[0]


def _prune(graph):
    """Drops nodes and tensors the outputs do not depend on (e.g. an unused LSTM state)."""
    needed = set(graph.outputs)
    kept = []
    for node in reversed(graph.nodes):
        if any(o in needed for o in node.outputs):
            kept.append(node)
            needed.update(i for i in node.inputs if i >= 0)
    kept.reverse()
    keep = set(graph.inputs) | set(graph.outputs)
    for node in kept:
        keep.update(i for i in node.inputs if i >= 0)
        keep.update(node.outputs)
    order = [i for i in range(len(graph.values)) if i in keep]
    remap = {old: new for new, old in enumerate(order)}
    graph.values = [graph.values[i] for i in order]
    for node in kept:
        node.inputs = [remap[i] if i >= 0 else -1 for i in node.inputs]
        node.outputs = [remap[i] for i in node.outputs]
    graph.nodes = kept
    graph.inputs = [remap[i] for i in graph.inputs]
    graph.outputs = [remap[i] for i in graph.outputs]


def _write_shapes(graph):
    """Shapes as the file stores them: graph inputs mark the batch dim -1 (dynamic), constants
    are static, and other values carry the traced shape as a hint with the batch dim as -1.

    Readers check a stored hint against shape inference (-1 matches anything, an empty shape
    means "not recorded"). When the batch is dynamic and a value's batch dim was not tracked
    (e.g. after `x.view(-1, C)` folded it into another dim), its traced sizes may not hold for
    other batch sizes, so no hint is written."""
    dynamic = any(graph.values[i].batch_axis is not None for i in graph.inputs)
    inputs = set(graph.inputs)
    for index, v in enumerate(graph.values):
        if v.is_constant:
            v.shape = list(v.data.shape)
        elif v.batch_axis is not None:
            v.shape = [-1 if i == v.batch_axis else d for i, d in enumerate(v.shape)]
        elif dynamic and index not in inputs:
            v.shape = []


if __name__ == "__main__":
    sys.exit("qrt_torch is a library: import qrt_torch and call qrt_torch.export(model, inputs, "
             "path)")
