// Elementwise activations: y has the dtype and shape of x.
//   Relu, Silu (x·σ(x)), Sigmoid, Tanh; LeakyRelu (max(x, 0) + slope·min(x, 0)); Gelu (erf or tanh
//   form).
#include <cmath>

#include "ir/ops/infer.h"

namespace qrt::ir::ops {

namespace {
InferResult same_as_float_input(const Node& node, const InferInputs& in) {
  QRT_ASSIGN_OR_RETURN(const TensorType* x, required_input(node, in, 0, "x"));
  QRT_RETURN_IF_ERROR(check_float(node, *x, "x"));
  return std::vector<TensorType>{*x};
}
}  // namespace

// Relu also maps int8 codes of a static int8 chain to codes with the same parameters:
// relu(s·(q − z)) = s·(max(q, z) − z), so y keeps x's dtype (i8/u8) and QuantParams.
InferResult infer_unary(const Node& node, const InferInputs& in) {
  QRT_RETURN_IF_ERROR(attrs_as<NoAttrs>(node).status());
  if (node.op == OpKind::kRelu && is_int8_activation(input_value(in, 0))) {
    QRT_ASSIGN_OR_RETURN(const TensorType* x, required_input(node, in, 0, "x"));
    return std::vector<TensorType>{*x};
  }
  return same_as_float_input(node, in);
}

InferResult infer_leaky_relu(const Node& node, const InferInputs& in) {
  QRT_ASSIGN_OR_RETURN(const LeakyReluAttrs* attrs, attrs_as<LeakyReluAttrs>(node));
  if (!std::isfinite(attrs->negative_slope))
    return invalid_model(node_label(node) + "negative_slope must be finite");
  return same_as_float_input(node, in);
}

InferResult infer_gelu(const Node& node, const InferInputs& in) {
  QRT_RETURN_IF_ERROR(attrs_as<GeluAttrs>(node).status());
  return same_as_float_input(node, in);
}

}  // namespace qrt::ir::ops
