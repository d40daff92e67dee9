// verify(): every check the runtime relies on, in an order where each step may assume the previous
// ones passed (ids in range before names are looked up, structure before inference).
#include <cmath>
#include <unordered_set>

#include "ir/graph.h"
#include "ir/op_schema.h"
#include "ir/precision.h"
#include "ir/quant_formats.h"
#include "ir/quant_params.h"

namespace qrt::ir {

namespace {

bool in_range(const Graph& g, ValueId id) {
  return id >= 0 && static_cast<size_t>(id) < g.values.size();
}

std::string out_of_range(const Graph& g, ValueId id) {
  return "value id " + std::to_string(id) + " is out of range (the graph has " +
         std::to_string(g.values.size()) + " values)";
}

std::string value_label(const Value& v) {
  return "value '" + v.name + "': ";
}

Status check_ids(const Graph& g) {
  for (size_t k = 0; k < g.inputs.size(); ++k)
    if (!in_range(g, g.inputs[k]))
      return invalid_model("graph input " + std::to_string(k) + ": " +
                           out_of_range(g, g.inputs[k]));
  for (size_t k = 0; k < g.outputs.size(); ++k)
    if (!in_range(g, g.outputs[k]))
      return invalid_model("graph output " + std::to_string(k) + ": " +
                           out_of_range(g, g.outputs[k]));
  for (const Node& node : g.nodes) {
    for (size_t i = 0; i < node.inputs.size(); ++i)
      if (node.inputs[i] != kNoValue && !in_range(g, node.inputs[i]))
        return invalid_model(node_label(node) + "input " + std::to_string(i) + ": " +
                             out_of_range(g, node.inputs[i]));
    for (size_t j = 0; j < node.outputs.size(); ++j)
      if (!in_range(g, node.outputs[j]))
        return invalid_model(node_label(node) + "output " + std::to_string(j) + ": " +
                             out_of_range(g, node.outputs[j]));
  }
  return Status::ok();
}

Status check_names(const Graph& g) {
  std::unordered_set<std::string> seen;
  for (size_t v = 0; v < g.values.size(); ++v) {
    const std::string& name = g.values[v].name;
    if (name.empty()) return invalid_model("value " + std::to_string(v) + " has an empty name");
    if (!seen.insert(name).second)
      return invalid_model("value name '" + name + "' is used by more than one value");
  }
  seen.clear();
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const std::string& name = g.nodes[n].name;
    if (name.empty()) return invalid_model("node " + std::to_string(n) + " has an empty name");
    if (!seen.insert(name).second)
      return invalid_model("node name '" + name + "' is used by more than one node");
  }
  return Status::ok();
}

// Who produces what, and the roles of graph inputs and outputs.
Status check_dataflow(const Graph& g) {
  std::vector<int> producer(g.values.size(), -1);
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const Node& node = g.nodes[n];
    for (ValueId id : node.outputs) {
      const Value& v = g.values[static_cast<size_t>(id)];
      if (v.is_constant())
        return invalid_model(node_label(node) + "output '" + v.name + "' is a constant");
      int& p = producer[static_cast<size_t>(id)];
      if (p >= 0)
        return invalid_model(value_label(v) + "produced more than once (by node '" +
                             g.nodes[static_cast<size_t>(p)].name + "' and node '" + node.name +
                             "')");
      p = static_cast<int>(n);
    }
  }
  std::vector<bool> is_input(g.values.size(), false);
  for (ValueId id : g.inputs) {
    const Value& v = g.values[static_cast<size_t>(id)];
    if (is_input[static_cast<size_t>(id)])
      return invalid_model("graph input '" + v.name + "' is listed more than once");
    is_input[static_cast<size_t>(id)] = true;
    if (v.is_constant()) return invalid_model("graph input '" + v.name + "' is a constant");
    if (const int p = producer[static_cast<size_t>(id)]; p >= 0)
      return invalid_model("graph input '" + v.name + "' is produced by node '" +
                           g.nodes[static_cast<size_t>(p)].name + "'");
  }
  std::vector<bool> is_output(g.values.size(), false);
  for (ValueId id : g.outputs) {
    const Value& v = g.values[static_cast<size_t>(id)];
    if (is_output[static_cast<size_t>(id)])
      return invalid_model("graph output '" + v.name + "' is listed more than once");
    is_output[static_cast<size_t>(id)] = true;
    if (producer[static_cast<size_t>(id)] < 0 && !is_input[static_cast<size_t>(id)])
      return invalid_model("graph output '" + v.name +
                           "' is neither produced by a node nor a graph input");
  }
  return Status::ok();
}

// Zero points must be representable in the integer type they offset. Float values (activations
// annotated with calibration ranges) may target i8 or u8, so they accept the union of both ranges.
std::pair<int32_t, int32_t> zero_point_range(DType t) {
  switch (t) {
    case DType::kI8:
      return {-128, 127};
    case DType::kU8:
      return {0, 255};
    default:
      return {-128, 255};
  }
}

bool is_positive_finite(float s) {
  return std::isfinite(s) && s > 0.0f;
}

Status check_quant(const Value& v) {
  const QuantParams& q = *v.quant;
  const std::string label = value_label(v) + "quantization parameters (" +
                            quant_scheme_name(q.scheme) + ", dtype " + dtype_name(v.dtype) +
                            ", shape " + shape_to_string(v.shape) + "): ";
  if (static_cast<int>(q.scheme) >= kNumQuantSchemes)
    return invalid_model(label + "scheme " + std::to_string(static_cast<int>(q.scheme)) +
                         " out of range");
  for (size_t i = 0; i < q.scales.size(); ++i)
    if (!is_positive_finite(q.scales[i]))
      return invalid_model(label + "scale " + std::to_string(i) + " is " +
                           std::to_string(q.scales[i]) + ", must be finite and > 0");
  const auto [zp_min, zp_max] = zero_point_range(v.dtype);
  for (size_t i = 0; i < q.zero_points.size(); ++i)
    if (q.zero_points[i] < zp_min || q.zero_points[i] > zp_max)
      return invalid_model(label + "zero point " + std::to_string(i) + " is " +
                           std::to_string(q.zero_points[i]) + ", outside [" +
                           std::to_string(zp_min) + ", " + std::to_string(zp_max) + "]");
  const bool nf4_scheme = q.scheme == QuantScheme::kNF4Block;
  if ((v.dtype == DType::kNF4) != nf4_scheme && q.scheme != QuantScheme::kNone)
    return invalid_model(label + "nf4 tensors and the nf4-block scheme go together");
  const bool symmetric =
      q.scheme == QuantScheme::kSymmetricPerTensor || q.scheme == QuantScheme::kSymmetricPerChannel;
  if (symmetric)
    for (int32_t zp : q.zero_points)
      if (zp != 0) return invalid_model(label + "symmetric schemes have zero points of 0");

  switch (q.scheme) {
    case QuantScheme::kNone:
      if (!q.scales.empty() || !q.zero_points.empty())
        return invalid_model(label + "scheme none carries scales or zero points");
      return Status::ok();
    case QuantScheme::kSymmetricPerTensor:
    case QuantScheme::kAffinePerTensor: {
      if (q.scales.size() != 1)
        return invalid_model(label + "has " + std::to_string(q.scales.size()) +
                             " scales, expected 1");
      const size_t zps = q.scheme == QuantScheme::kAffinePerTensor ? 1 : q.zero_points.size();
      if (q.zero_points.size() != zps || zps > 1)
        return invalid_model(label + "has " + std::to_string(q.zero_points.size()) +
                             " zero points, expected 1");
      return Status::ok();
    }
    case QuantScheme::kSymmetricPerChannel:
    case QuantScheme::kAffinePerChannel: {
      if (q.axis < 0 || static_cast<size_t>(q.axis) >= v.shape.size())
        return invalid_model(label + "axis " + std::to_string(q.axis) + " out of range");
      const int64_t channels = v.shape[static_cast<size_t>(q.axis)];
      if (channels != kDynamicDim && q.scales.size() != static_cast<uint64_t>(channels))
        return invalid_model(label + "has " + std::to_string(q.scales.size()) +
                             " scales, expected " + std::to_string(channels) + " (dim " +
                             std::to_string(q.axis) + ")");
      const bool affine = q.scheme == QuantScheme::kAffinePerChannel;
      if ((affine || !q.zero_points.empty()) && q.zero_points.size() != q.scales.size())
        return invalid_model(label + "has " + std::to_string(q.zero_points.size()) +
                             " zero points for " + std::to_string(q.scales.size()) + " scales");
      return Status::ok();
    }
    case QuantScheme::kNF4Block: {
      if (!is_valid_nf4_block_size(q.block_size))
        return invalid_model(label + "block size " + std::to_string(q.block_size) +
                             " is not a power of two in [" + std::to_string(kNF4MinBlock) + ", " +
                             std::to_string(kNF4MaxBlock) + "]");
      if (v.shape.empty()) return invalid_model(label + "an nf4 tensor needs at least 1 dim");
      if (!q.zero_points.empty()) return invalid_model(label + "nf4 has no zero points");
      const int64_t row = v.shape.back();
      if (row != kDynamicDim && row % q.block_size != 0)
        return invalid_model(label + "block size " + std::to_string(q.block_size) +
                             " does not divide the last dim " + std::to_string(row));
      if (!is_static(v.shape)) return Status::ok();  // block counts are checked on static shapes
      Result<int64_t> elements = checked_numel(v.shape);
      if (!elements.is_ok()) return elements.status().with_context(label);
      const uint64_t blocks = static_cast<uint64_t>(*elements / q.block_size);
      if (!q.double_quant) {
        if (q.scales.size() != blocks)
          return invalid_model(label + "has " + std::to_string(q.scales.size()) +
                               " absmax scales, expected one per block (" + std::to_string(blocks) +
                               ")");
        if (!q.absmax_codes.empty() || !q.group_scales.empty())
          return invalid_model(label + "carries double-quantization arrays without double_quant");
        return Status::ok();
      }
      // Double quantization (QLoRA): absmax[b] = absmax_codes[b] * group_scales[b / group_size]
      // + absmax_offset, so the codes replace the per-block scales.
      if (!q.scales.empty())
        return invalid_model(label + "double_quant stores absmax as codes, but scales are set too");
      if (q.absmax_codes.size() != blocks)
        return invalid_model(label + "has " + std::to_string(q.absmax_codes.size()) +
                             " absmax codes, expected one per block (" + std::to_string(blocks) +
                             ")");
      if (q.group_size < 1)
        return invalid_model(label + "group size " + std::to_string(q.group_size) +
                             " must be >= 1");
      const uint64_t group = static_cast<uint64_t>(q.group_size);
      const uint64_t groups = blocks / group + (blocks % group != 0 ? 1 : 0);
      if (q.group_scales.size() != groups)
        return invalid_model(label + "has " + std::to_string(q.group_scales.size()) +
                             " group scales, expected " + std::to_string(groups));
      for (size_t i = 0; i < q.group_scales.size(); ++i)
        if (!is_positive_finite(q.group_scales[i]))
          return invalid_model(label + "group scale " + std::to_string(i) + " is " +
                               std::to_string(q.group_scales[i]) + ", must be finite and > 0");
      if (!std::isfinite(q.absmax_offset))
        return invalid_model(label + "absmax offset must be finite");
      return Status::ok();
    }
  }
  return Status::ok();
}

Status check_values(const Graph& g) {
  for (const Value& v : g.values) {
    if (!is_valid_dtype(static_cast<uint8_t>(v.dtype)))
      return invalid_model(value_label(v) + "dtype " + std::to_string(static_cast<int>(v.dtype)) +
                           " out of range");
    for (int64_t d : v.shape)
      if (d < kDynamicDim)
        return invalid_model(value_label(v) + "shape " + shape_to_string(v.shape) +
                             " has a negative dim");
    if (v.is_constant()) {
      if (!is_static(v.shape))
        return invalid_model(value_label(v) + "constant has a dynamic shape " +
                             shape_to_string(v.shape));
      Result<int64_t> n = checked_numel(v.shape);
      if (!n.is_ok()) return n.status().with_context(value_label(v) + "constant");
      Result<std::size_t> bytes = storage_bytes(v.dtype, *n);
      if (!bytes.is_ok()) return bytes.status().with_context(value_label(v) + "constant");
      if (v.data->size() != *bytes)
        return invalid_model(value_label(v) + "constant holds " + std::to_string(v.data->size()) +
                             " bytes, but " + dtype_name(v.dtype) + " " + shape_to_string(v.shape) +
                             " needs " + std::to_string(*bytes));
    }
    if (v.dtype == DType::kNF4 && (!v.quant || v.quant->scheme != QuantScheme::kNF4Block))
      return invalid_model(value_label(v) + "nf4 tensor without nf4-block quantization parameters");
    if (v.quant) QRT_RETURN_IF_ERROR(check_quant(v));
  }
  return Status::ok();
}

// Acyclic, and stored so that every node comes after the producers of its inputs.
Status check_order(const Graph& g) {
  QRT_RETURN_IF_ERROR(topological_order(g).status());
  std::vector<int> producer(g.values.size(), -1);
  for (size_t n = 0; n < g.nodes.size(); ++n)
    for (ValueId id : g.nodes[n].outputs) producer[static_cast<size_t>(id)] = static_cast<int>(n);
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const Node& node = g.nodes[n];
    for (ValueId id : node.inputs) {
      if (id == kNoValue) continue;
      const int p = producer[static_cast<size_t>(id)];
      if (p > static_cast<int>(n))
        return invalid_model(node_label(node) + "consumes '" +
                             g.values[static_cast<size_t>(id)].name + "', produced by node '" +
                             g.nodes[static_cast<size_t>(p)].name +
                             "' stored after it (nodes must be stored in topological order)");
    }
  }
  return Status::ok();
}

// Inference with the declared input shapes; stored types of computed values must agree with it
// (stored -1 dims are wildcards, an empty stored shape means "not recorded").
Status check_inferred_types(const Graph& g) {
  std::vector<Shape> declared;
  declared.reserve(g.inputs.size());
  std::vector<bool> is_input(g.values.size(), false);
  for (ValueId id : g.inputs) {
    declared.push_back(g.values[static_cast<size_t>(id)].shape);
    is_input[static_cast<size_t>(id)] = true;
  }
  QRT_ASSIGN_OR_RETURN(const std::vector<TensorType> types, infer_shapes(g, declared));
  for (size_t v = 0; v < g.values.size(); ++v) {
    const Value& value = g.values[v];
    if (is_input[v] || value.is_constant()) continue;
    const TensorType& t = types[v];
    if (value.dtype != t.dtype)
      return invalid_model(value_label(value) + "stored dtype " + dtype_name(value.dtype) +
                           " but inference gives " + dtype_name(t.dtype));
    if (value.shape.empty()) continue;
    bool agrees = value.shape.size() == t.shape.size();
    for (size_t d = 0; agrees && d < t.shape.size(); ++d)
      agrees = value.shape[d] == kDynamicDim || value.shape[d] == t.shape[d];
    if (!agrees)
      return invalid_model(value_label(value) + "stored shape " + shape_to_string(value.shape) +
                           " but inference gives " + shape_to_string(t.shape));
  }
  return Status::ok();
}

// Int8 activations (non-constant i8/u8 values) exist only inside static int8 chains
// (ir/precision.h): each carries per-tensor QuantParams matching its dtype (i8 symmetric, u8
// affine), is produced by an int8-static Linear (requantizing epilogue) or by a Relu/Reshape of an
// int8 activation with the same dtype and parameters (both commute with per-tensor quantization),
// and is read only by Relu, Reshape or as x of an int8-static Linear; never a graph input or
// output (callers exchange float tensors).
Status check_int8_activations(const Graph& g) {
  const std::string int8_static = precision_name(Precision::kInt8Static);
  std::vector<int> producer(g.values.size(), -1);
  for (size_t n = 0; n < g.nodes.size(); ++n)
    for (ValueId id : g.nodes[n].outputs) producer[static_cast<size_t>(id)] = static_cast<int>(n);
  auto is_int8_code = [](const Value& v) {
    return !v.is_constant() && (v.dtype == DType::kI8 || v.dtype == DType::kU8);
  };
  auto passes_codes = [](OpKind op) { return op == OpKind::kRelu || op == OpKind::kReshape; };

  for (size_t v = 0; v < g.values.size(); ++v) {
    const Value& value = g.values[v];
    if (!is_int8_code(value)) continue;
    const std::string label =
        value_label(value) + dtype_name(value.dtype) + " activation (static int8 chain): ";
    const QuantScheme expected = value.dtype == DType::kI8 ? QuantScheme::kSymmetricPerTensor
                                                           : QuantScheme::kAffinePerTensor;
    if (!value.quant || value.quant->scheme != expected)
      return invalid_model(label + "needs " + quant_scheme_name(expected) +
                           " quantization parameters (" + dtype_name(value.dtype) + " codes are " +
                           (value.dtype == DType::kI8 ? "symmetric" : "affine, uint8 range") + ")");
    for (ValueId id : g.inputs)
      if (id == static_cast<ValueId>(v))
        return invalid_model(label + "is a graph input; graph inputs are float");
    for (ValueId id : g.outputs)
      if (id == static_cast<ValueId>(v))
        return invalid_model(label + "is a graph output; graph outputs are float");
    const int p = producer[v];
    if (p < 0) return invalid_model(label + "is not produced by any node");
    const Node& made_by = g.nodes[static_cast<size_t>(p)];
    if (made_by.op == OpKind::kLinear) {
      if (made_by.precision.precision != int8_static)
        return invalid_model(label + "produced by " + node_label(made_by) + "which runs in '" +
                             made_by.precision.precision +
                             "'; only an int8-static Linear writes int8 codes");
    } else if (passes_codes(made_by.op)) {
      const ValueId src = made_by.inputs.empty() ? kNoValue : made_by.inputs[0];
      const Value* in = src == kNoValue ? nullptr : &g.values[static_cast<size_t>(src)];
      if (in == nullptr || in->dtype != value.dtype || in->quant != value.quant)
        return invalid_model(
            label + "produced by " + node_label(made_by) + "from " +
            (in ? "'" + in->name + "' (" + dtype_name(in->dtype) + ")" : "nothing") +
            ", which is not an int8 activation with the same dtype and "
            "quantization parameters");
    } else {
      return invalid_model(label + "produced by " + node_label(made_by) +
                           "; only int8-static Linear, Relu and Reshape produce int8 activations");
    }
    for (const Node& node : g.nodes)
      for (size_t i = 0; i < node.inputs.size(); ++i) {
        if (node.inputs[i] != static_cast<ValueId>(v)) continue;
        const bool linear_x =
            node.op == OpKind::kLinear && i == 0 && node.precision.precision == int8_static;
        if (!linear_x && !(passes_codes(node.op) && i == 0))
          return invalid_model(label + "read by " + node_label(node) + "as input " +
                               std::to_string(i) + " (precision '" + node.precision.precision +
                               "'); only x of an int8-static Linear, Relu and Reshape read int8 "
                               "codes");
      }
  }
  return Status::ok();
}

// The precision record names a known precision and a usable outlier threshold.
Status check_precision(const Node& node) {
  const PrecisionRecord& p = node.precision;
  if (!precision_from_name(p.precision))
    return invalid_model(node_label(node) + "unknown precision '" + p.precision + "'");
  if (!std::isfinite(p.outlier_threshold) || p.outlier_threshold < 0.0f)
    return invalid_model(node_label(node) + "outlier threshold must be finite and >= 0");
  return Status::ok();
}

}  // namespace

Status verify(const Graph& graph) {
  QRT_RETURN_IF_ERROR(check_ids(graph));
  QRT_RETURN_IF_ERROR(check_names(graph));
  QRT_RETURN_IF_ERROR(check_values(graph));
  for (const Node& node : graph.nodes) {
    QRT_RETURN_IF_ERROR(check_node_signature(node));
    QRT_RETURN_IF_ERROR(check_precision(node));
  }
  QRT_RETURN_IF_ERROR(check_dataflow(graph));
  QRT_RETURN_IF_ERROR(check_order(graph));
  QRT_RETURN_IF_ERROR(check_int8_activations(graph));
  return check_inferred_types(graph);
}

}  // namespace qrt::ir
