"""The exporter's in-memory graph and the `.qrt` file writer (plus a small reader for checks).

The file layout is the one `ir/schema/qrt.fbs` and `ir/schema/README.md` define: a size-prefixed
flatbuffer (root `Model`, identifier "QRT1"), then every constant's bytes at a 64-byte-aligned
offset, zero padded, in tensor order. The Python code for the schema is generated from `qrt.fbs`
with `flatc --python` on first use and cached (keyed by a hash of the schema), so the exporter runs
from a clean checkout without a build step and can never drift from the C++ reader.
"""

import hashlib
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

import numpy as np

FORMAT_VERSION = 1
FILE_IDENTIFIER = b"QRT1"
WEIGHT_ALIGNMENT = 64  # ir/constant_data.h kWeightAlignment: kernels may use aligned loads in place
INT64_MAX = 2**63 - 1

_SCHEMA_PATH = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "ir", "schema", "qrt.fbs"))

# numpy dtype -> schema DType name; the exporter writes float32 graphs.
_DTYPES = {np.dtype(np.float32): "F32", np.dtype(np.int8): "I8", np.dtype(np.uint8): "U8",
           np.dtype(np.int32): "I32", np.dtype(np.float16): "F16"}


class FormatError(RuntimeError):
    """The schema code could not be generated or a file could not be written/read."""


# ---------------------------------------------------------------------------------------------
# In-memory graph: mirrors ir/graph.h closely enough that serialization is a direct walk.


@dataclass
class Value:
    name: str
    shape: list  # ints; -1 marks the dynamic batch dim (graph inputs) or an unknown hint dim
    dtype: str = "F32"
    data: object = None  # numpy array for constants
    batch_axis: object = None  # which dim is the batch, when known (int or None)

    @property
    def is_constant(self):
        return self.data is not None


@dataclass
class Node:
    name: str
    op: str  # the ir/ops.def name: "Linear", "LSTM", ...
    attrs: dict
    inputs: list  # value indices, -1 for an absent optional input
    outputs: list


@dataclass
class Graph:
    values: list = field(default_factory=list)
    nodes: list = field(default_factory=list)
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    metadata: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Generated schema code.


def _cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "qrt")


def _flatc():
    flatc = os.environ.get("QRT_FLATC") or shutil.which("flatc")
    if not flatc:
        raise FormatError(
            "qrt_torch: the FlatBuffers compiler 'flatc' was not found on PATH (it is a build "
            "dependency of qrt: install flatbuffers-compiler, or set QRT_FLATC to its path); it "
            "generates the Python code for ir/schema/qrt.fbs")
    return flatc


def _generate_schema_package(schema_path):
    """Returns the folder holding the `qrt/fb` package generated from `schema_path`."""
    try:
        with open(schema_path, "rb") as f:
            schema = f.read()
    except OSError as e:
        raise FormatError(f"qrt_torch: cannot read the model schema {schema_path}: {e}") from e
    key = hashlib.sha256(schema).hexdigest()[:16]
    root = _cache_root()
    target = os.path.join(root, f"schema-py-{key}")
    if os.path.isdir(os.path.join(target, "qrt", "fb")):
        return target
    os.makedirs(root, exist_ok=True)
    # Generate into a private folder and rename it into place: concurrent exporters either win
    # the rename or find the finished folder, never a half-written one.
    scratch = tempfile.mkdtemp(prefix="schema-py-tmp-", dir=root)
    try:
        proc = subprocess.run([_flatc(), "--python", "-o", scratch, schema_path],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise FormatError(f"qrt_torch: flatc failed on {schema_path}: "
                              f"{proc.stderr.strip() or proc.stdout.strip()}")
        try:
            os.rename(scratch, target)
        except OSError:
            if not os.path.isdir(os.path.join(target, "qrt", "fb")):
                raise
    finally:
        if os.path.isdir(scratch):
            shutil.rmtree(scratch, ignore_errors=True)
    return target


class _Schema:
    """The generated modules, by table name: schema.Model, schema.Node, ..."""

    _NAMES = ("Model", "Graph", "Tensor", "Node", "Buffer", "KeyValue", "DType", "OpKind", "Attrs",
              "LstmAttrs", "LayerNormAttrs", "LeakyReluAttrs", "GeluAttrs", "ReshapeAttrs",
              "TransposeAttrs", "SliceAttrs", "ConcatAttrs", "FakeQuantAttrs", "LinearAttrs",
              "FusedActivation")

    def __init__(self, folder):
        if folder not in sys.path:
            sys.path.insert(0, folder)
        for name in self._NAMES:
            setattr(self, name, importlib.import_module(f"qrt.fb.{name}"))


_schema_cache = {}


def schema(schema_path=_SCHEMA_PATH):
    """The generated schema modules (generating them with flatc on first use)."""
    if schema_path not in _schema_cache:
        _schema_cache[schema_path] = _Schema(_generate_schema_package(schema_path))
    return _schema_cache[schema_path]


# ---------------------------------------------------------------------------------------------
# Writer.


def _align(n, a=WEIGHT_ALIGNMENT):
    return (n + a - 1) // a * a


def _int_vector(b, values, dtype):
    return b.CreateNumpyVector(np.asarray(values, dtype=dtype))


def _build_attrs(s, b, op, attrs):
    """Builds the attribute table of one node; returns (union type, offset) or (NONE, None)."""
    if op == "LSTM":
        s.LstmAttrs.LstmAttrsStart(b)
        s.LstmAttrs.LstmAttrsAddHiddenSize(b, int(attrs["hidden_size"]))
        s.LstmAttrs.LstmAttrsAddNumLayers(b, int(attrs["num_layers"]))
        return s.Attrs.Attrs.LstmAttrs, s.LstmAttrs.LstmAttrsEnd(b)
    if op == "LayerNorm":
        s.LayerNormAttrs.LayerNormAttrsStart(b)
        s.LayerNormAttrs.LayerNormAttrsAddEps(b, float(attrs["eps"]))
        return s.Attrs.Attrs.LayerNormAttrs, s.LayerNormAttrs.LayerNormAttrsEnd(b)
    if op == "LeakyRelu":
        s.LeakyReluAttrs.LeakyReluAttrsStart(b)
        s.LeakyReluAttrs.LeakyReluAttrsAddNegativeSlope(b, float(attrs["negative_slope"]))
        return s.Attrs.Attrs.LeakyReluAttrs, s.LeakyReluAttrs.LeakyReluAttrsEnd(b)
    if op == "Gelu":
        s.GeluAttrs.GeluAttrsStart(b)
        s.GeluAttrs.GeluAttrsAddTanhApproximation(b, bool(attrs["tanh_approximation"]))
        return s.Attrs.Attrs.GeluAttrs, s.GeluAttrs.GeluAttrsEnd(b)
    if op == "Reshape":
        shape = _int_vector(b, attrs["shape"], np.int64)
        s.ReshapeAttrs.ReshapeAttrsStart(b)
        s.ReshapeAttrs.ReshapeAttrsAddShape(b, shape)
        return s.Attrs.Attrs.ReshapeAttrs, s.ReshapeAttrs.ReshapeAttrsEnd(b)
    if op == "Transpose":
        perm = _int_vector(b, attrs["perm"], np.int64)
        s.TransposeAttrs.TransposeAttrsStart(b)
        s.TransposeAttrs.TransposeAttrsAddPerm(b, perm)
        return s.Attrs.Attrs.TransposeAttrs, s.TransposeAttrs.TransposeAttrsEnd(b)
    if op == "Slice":
        s.SliceAttrs.SliceAttrsStart(b)
        s.SliceAttrs.SliceAttrsAddAxis(b, int(attrs["axis"]))
        s.SliceAttrs.SliceAttrsAddStart(b, int(attrs["start"]))
        s.SliceAttrs.SliceAttrsAddEnd(b, int(attrs["end"]))
        s.SliceAttrs.SliceAttrsAddStep(b, int(attrs["step"]))
        s.SliceAttrs.SliceAttrsAddSqueeze(b, bool(attrs["squeeze"]))
        return s.Attrs.Attrs.SliceAttrs, s.SliceAttrs.SliceAttrsEnd(b)
    if op == "Concat":
        s.ConcatAttrs.ConcatAttrsStart(b)
        s.ConcatAttrs.ConcatAttrsAddAxis(b, int(attrs["axis"]))
        return s.Attrs.Attrs.ConcatAttrs, s.ConcatAttrs.ConcatAttrsEnd(b)
    return s.Attrs.Attrs.NONE, None


def _build_flatbuffer(s, graph, producer, buffer_ranges):
    b = __import__("flatbuffers").Builder(1024)
    # Tensors.
    tensor_offsets = []
    buffer_index = 0
    for v in graph.values:
        name = b.CreateString(v.name)
        shape = _int_vector(b, v.shape, np.int64)
        s.Tensor.TensorStart(b)
        s.Tensor.TensorAddName(b, name)
        s.Tensor.TensorAddDtype(b, getattr(s.DType.DType, v.dtype))
        s.Tensor.TensorAddShape(b, shape)
        if v.is_constant:
            s.Tensor.TensorAddBuffer(b, buffer_index)
            buffer_index += 1
        tensor_offsets.append(s.Tensor.TensorEnd(b))
    # Nodes.
    node_offsets = []
    for n in graph.nodes:
        name = b.CreateString(n.name)
        inputs = _int_vector(b, n.inputs, np.int32)
        outputs = _int_vector(b, n.outputs, np.int32)
        attrs_type, attrs = _build_attrs(s, b, n.op, n.attrs)
        s.Node.NodeStart(b)
        s.Node.NodeAddName(b, name)
        s.Node.NodeAddOp(b, getattr(s.OpKind.OpKind, n.op))
        if attrs is not None:
            s.Node.NodeAddAttrsType(b, attrs_type)
            s.Node.NodeAddAttrs(b, attrs)
        s.Node.NodeAddInputs(b, inputs)
        s.Node.NodeAddOutputs(b, outputs)
        node_offsets.append(s.Node.NodeEnd(b))

    def table_vector(offsets):
        b.StartVector(4, len(offsets), 4)
        for off in reversed(offsets):
            b.PrependUOffsetTRelative(off)
        return b.EndVector()

    tensors = table_vector(tensor_offsets)
    nodes = table_vector(node_offsets)
    g_inputs = _int_vector(b, graph.inputs, np.int32)
    g_outputs = _int_vector(b, graph.outputs, np.int32)
    s.Graph.GraphStart(b)
    s.Graph.GraphAddTensors(b, tensors)
    s.Graph.GraphAddNodes(b, nodes)
    s.Graph.GraphAddInputs(b, g_inputs)
    s.Graph.GraphAddOutputs(b, g_outputs)
    graph_off = s.Graph.GraphEnd(b)

    buffer_offsets = []
    for offset, size in buffer_ranges:
        s.Buffer.BufferStart(b)
        s.Buffer.BufferAddOffset(b, offset)
        s.Buffer.BufferAddSize(b, size)
        buffer_offsets.append(s.Buffer.BufferEnd(b))
    buffers = table_vector(buffer_offsets)

    # KeyValue.key is a (key) field: the vector must be sorted for binary search.
    kv_offsets = []
    for key in sorted(graph.metadata):
        k = b.CreateString(key)
        val = b.CreateString(str(graph.metadata[key]))
        s.KeyValue.KeyValueStart(b)
        s.KeyValue.KeyValueAddKey(b, k)
        s.KeyValue.KeyValueAddValue(b, val)
        kv_offsets.append(s.KeyValue.KeyValueEnd(b))
    metadata = table_vector(kv_offsets)

    producer_off = b.CreateString(producer)
    s.Model.ModelStart(b)
    s.Model.ModelAddFormatVersion(b, FORMAT_VERSION)
    s.Model.ModelAddProducer(b, producer_off)
    s.Model.ModelAddGraph(b, graph_off)
    s.Model.ModelAddBuffers(b, buffers)
    s.Model.ModelAddMetadata(b, metadata)
    root = s.Model.ModelEnd(b)
    b.FinishSizePrefixed(root, FILE_IDENTIFIER)
    return bytes(b.Output())


def serialize(graph, producer):
    """Returns the bytes of a `.qrt` file for `graph`."""
    s = schema()
    blobs = [np.ascontiguousarray(v.data).tobytes() for v in graph.values if v.is_constant]
    # The buffer offsets live inside the flatbuffer, whose size depends (only through field
    # presence, which is fixed) on them: lay out after a guessed header size, rebuild until the
    # flatbuffer fits in front of the first buffer. Offsets are nonzero from the first guess on,
    # so the table layout, and hence the size, is stable after one rebuild.
    header_end = WEIGHT_ALIGNMENT
    for _ in range(8):
        ranges, pos = [], header_end
        for blob in blobs:
            ranges.append((pos, len(blob)))
            pos = _align(pos + len(blob))
        fb = _build_flatbuffer(s, graph, producer, ranges)
        if _align(len(fb)) == header_end:
            break
        header_end = _align(len(fb))
    else:
        raise FormatError("qrt_torch: the flatbuffer layout did not converge")
    out = bytearray(fb)
    for (offset, size), blob in zip(ranges, blobs):
        out.extend(b"\0" * (offset - len(out)))
        out.extend(blob)
    return bytes(out)


def write_file(graph, producer, path):
    """Serializes `graph` to `path` through a temporary file renamed into place."""
    data = serialize(graph, producer)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".qrt-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        # mkstemp creates the file 0600; a model file gets the permissions of any new file.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return len(data)


# ---------------------------------------------------------------------------------------------
# Reader (for tests and inspection from Python): returns plain dicts.


def _attrs_dict(s, node):
    kind = node.AttrsType()
    table = node.Attrs()
    if kind == s.Attrs.Attrs.NONE or table is None:
        return {}
    names = {v: k for k, v in vars(s.Attrs.Attrs).items() if not k.startswith("_")}
    cls = getattr(getattr(s, names[kind]), names[kind])
    a = cls()
    a.Init(table.Bytes, table.Pos)
    if names[kind] == "LstmAttrs":
        return {"hidden_size": a.HiddenSize(), "num_layers": a.NumLayers()}
    if names[kind] == "LinearAttrs":  # format version 5: an activation fused by the C++ passes
        activations = {v: k for k, v in vars(s.FusedActivation.FusedActivation).items()
                       if not k.startswith("_")}
        return {"activation": activations[a.Activation()]}
    if names[kind] == "LayerNormAttrs":
        return {"eps": a.Eps()}
    if names[kind] == "LeakyReluAttrs":
        return {"negative_slope": a.NegativeSlope()}
    if names[kind] == "GeluAttrs":
        return {"tanh_approximation": bool(a.TanhApproximation())}
    if names[kind] == "ReshapeAttrs":
        return {"shape": [a.Shape(i) for i in range(a.ShapeLength())]}
    if names[kind] == "TransposeAttrs":
        return {"perm": [a.Perm(i) for i in range(a.PermLength())]}
    if names[kind] == "SliceAttrs":
        return {"axis": a.Axis(), "start": a.Start(), "end": a.End(), "step": a.Step(),
                "squeeze": bool(a.Squeeze())}
    if names[kind] == "ConcatAttrs":
        return {"axis": a.Axis()}
    if names[kind] == "FakeQuantAttrs":  # format version 3 (QAT graphs)
        return {"mode": a.Mode(), "bits": a.Bits(), "symmetric": bool(a.Symmetric()),
                "unsigned_range": bool(a.UnsignedRange()), "per_channel": bool(a.PerChannel()),
                "axis": a.Axis(), "learnable_scale": bool(a.LearnableScale()),
                "block_size": a.BlockSize(), "double_quant": bool(a.DoubleQuant())}
    return {}


def read_file(path):
    """Parses a `.qrt` file into plain Python structures (no semantic validation)."""
    s = schema()
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 12 or data[8:12] != FILE_IDENTIFIER:
        raise FormatError(f"qrt_torch: {path} is not a .qrt file (identifier {data[8:12]!r})")
    model = s.Model.Model.GetRootAs(data, 4)
    g = model.Graph()
    op_names = {v: k for k, v in vars(s.OpKind.OpKind).items() if not k.startswith("_")}
    dtype_names = {v: k for k, v in vars(s.DType.DType).items() if not k.startswith("_")}
    buffers = [(model.Buffers(i).Offset(), model.Buffers(i).Size())
               for i in range(model.BuffersLength())]
    tensors = []
    for i in range(g.TensorsLength()):
        t = g.Tensors(i)
        entry = {"name": t.Name().decode(), "dtype": dtype_names[t.Dtype()],
                 "shape": [t.Shape(j) for j in range(t.ShapeLength())], "buffer": t.Buffer()}
        if t.Buffer() >= 0 and entry["dtype"] == "F32":
            offset, size = buffers[t.Buffer()]
            entry["data"] = np.frombuffer(data, dtype=np.float32, count=size // 4,
                                          offset=offset).reshape(entry["shape"])
        tensors.append(entry)
    nodes = []
    for i in range(g.NodesLength()):
        n = g.Nodes(i)
        nodes.append({"name": n.Name().decode(), "op": op_names[n.Op()], "attrs": _attrs_dict(s, n),
                      "inputs": [n.Inputs(j) for j in range(n.InputsLength())],
                      "outputs": [n.Outputs(j) for j in range(n.OutputsLength())]})
    metadata = {}
    for i in range(model.MetadataLength()):
        kv = model.Metadata(i)
        metadata[kv.Key().decode()] = kv.Value().decode() if kv.Value() else ""
    return {"size_prefix": int.from_bytes(data[0:4], "little"), "file_size": len(data),
            "format_version": model.FormatVersion(),
            "producer": model.Producer().decode() if model.Producer() else "",
            "tensors": tensors, "nodes": nodes,
            "inputs": [g.Inputs(i) for i in range(g.InputsLength())],
            "outputs": [g.Outputs(i) for i in range(g.OutputsLength())],
            "buffers": buffers, "metadata": metadata, "bytes": data}
