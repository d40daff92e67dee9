#include "ir/precision_forms.h"

#include <cmath>
#include <string>

#include "ir/op_schema.h"

namespace qrt::ir {

namespace {

bool has_scheme(const Value& v, QuantScheme scheme) {
  return v.quant.has_value() && v.quant->scheme == scheme;
}

bool unquantized(const Value& v) {
  return !v.quant.has_value() || v.quant->scheme == QuantScheme::kNone;
}

Status node_error(const Node& node, const std::string& message) {
  return invalid_model(node_label(node) + message);
}

}  // namespace

std::optional<Precision> node_precision(const Node& node) {
  return precision_from_name(node.precision.precision);
}

const Value* value_of(const Graph& graph, ValueId id) {
  if (id < 0 || static_cast<std::size_t>(id) >= graph.values.size()) return nullptr;
  return &graph.values[static_cast<std::size_t>(id)];
}

bool is_plain_f32(const Value& v) {
  return v.dtype == DType::kF32 && unquantized(v);
}

bool is_f32_data(const Graph& graph, ValueId id) {
  const Value* v = value_of(graph, id);
  if (v == nullptr || v->dtype != DType::kF32) return false;
  if (unquantized(*v)) return true;
  const bool per_tensor = has_scheme(*v, QuantScheme::kSymmetricPerTensor) ||
                          has_scheme(*v, QuantScheme::kAffinePerTensor);
  return per_tensor && !v->is_constant();
}

bool all_f32_data(const Graph& graph, const Node& node) {
  for (ValueId id : node.inputs)
    if (id != kNoValue && !is_f32_data(graph, id)) return false;
  for (ValueId id : node.outputs)
    if (!is_f32_data(graph, id)) return false;
  return true;
}

bool weight_has_form(Precision precision, const Value& w) {
  if (w.shape.size() != 2 || !w.is_constant()) return false;
  switch (precision) {
    case Precision::kFP16:
      return w.dtype == DType::kF16 && unquantized(w);
    case Precision::kBF16:
      return w.dtype == DType::kBF16 && unquantized(w);
    case Precision::kW8A16:
    case Precision::kInt8Dynamic:
    case Precision::kInt8Static:
      return w.dtype == DType::kI8 && has_scheme(w, QuantScheme::kSymmetricPerChannel) &&
             w.quant->axis == 0;
    case Precision::kNF4:
      return w.dtype == DType::kNF4 && has_scheme(w, QuantScheme::kNF4Block);
    case Precision::kFP32:
      return false;
  }
  return false;
}

bool bias_has_form(Precision precision, const Value* bias) {
  if (bias == nullptr || is_plain_f32(*bias)) return true;
  if (!unquantized(*bias) || !bias->is_constant()) return false;
  return (precision == Precision::kFP16 && bias->dtype == DType::kF16) ||
         (precision == Precision::kBF16 && bias->dtype == DType::kBF16);
}

bool activation_has_form(Precision precision, const Value& x) {
  if (precision != Precision::kInt8Static) return is_plain_f32(x);
  return x.dtype == DType::kF32 && (has_scheme(x, QuantScheme::kSymmetricPerTensor) ||
                                    has_scheme(x, QuantScheme::kAffinePerTensor));
}

Result<FixedActivationQuant> fixed_activation_quant(const Node& node, const Value& x) {
  const std::string what = "input '" + x.name + "'";
  if (!x.quant || x.quant->scales.size() != 1)
    return node_error(node, what + " has no per-tensor calibrated scale (int8-static)");
  const QuantParams& q = *x.quant;
  FixedActivationQuant a;
  a.scale = q.scales[0];
  if (!std::isfinite(a.scale) || a.scale <= 0.0f)
    return node_error(node,
                      what + " has scale " + std::to_string(a.scale) + ", expected finite and > 0");
  if (q.scheme == QuantScheme::kSymmetricPerTensor) return a;
  if (q.scheme != QuantScheme::kAffinePerTensor || q.zero_points.size() != 1)
    return node_error(node, what + " has " + quant_scheme_name(q.scheme) +
                                " parameters, expected per-tensor symmetric or affine");
  // The static pass stores affine activations in the uint8 range (ir/passes/passes.h).
  a.zero_point = q.zero_points[0];
  a.qmin = 0;
  a.qmax = 255;
  if (a.zero_point < a.qmin || a.zero_point > a.qmax)
    return node_error(node, what + " has zero point " + std::to_string(a.zero_point) +
                                ", outside the uint8 range [0, 255]");
  return a;
}

}  // namespace qrt::ir
