// Linear (PyTorch nn.Linear): y = x·Wᵀ + b over any leading dims, then the fused activation
// (LinearAttrs::activation, none by default): y = act(x·Wᵀ + b).
//   x [..., K], weight [N, K], bias? [N] -> y [..., N], dtype of x.
// In a static int8 chain (ir/precision.h) an int8-static Linear may also read x as int8 codes
// (i8/u8 with per-tensor QuantParams) and write y as int8 codes: the output's declared dtype says
// so (the kernel requantizes with the output's QuantParams); an int8 x with a float y gives f32.
#include "ir/ops/infer.h"
#include "ir/precision.h"

namespace qrt::ir::ops {

namespace {
bool is_int8_static(const Node& node) {
  return node.precision.precision == precision_name(Precision::kInt8Static);
}
}  // namespace

InferResult infer_linear(const Node& node, const InferInputs& in) {
  QRT_ASSIGN_OR_RETURN(const LinearAttrs* attrs, attrs_as<LinearAttrs>(node));
  if (const auto act = static_cast<int>(attrs->activation); act >= kNumFusedActivations)
    return invalid_model(node_label(node) + "unknown fused activation " + std::to_string(act) +
                         " (0.." + std::to_string(kNumFusedActivations - 1) + ")");
  QRT_ASSIGN_OR_RETURN(const TensorType* x, required_input(node, in, 0, "x"));
  QRT_ASSIGN_OR_RETURN(const TensorType* w, required_input(node, in, 1, "weight"));
  const TensorType* b = input_type(in, 2);

  const bool int8_x = is_int8_static(node) && is_int8_activation(input_value(in, 0)) &&
                      x->dtype == input_value(in, 0)->dtype;
  if (!int8_x) {
    if (!is_float_dtype(x->dtype) && is_int8_activation(input_value(in, 0)))
      return invalid_model(node_label(node) + "x '" + input_value(in, 0)->name + "' holds " +
                           dtype_name(x->dtype) +
                           " codes, which only an int8-static Linear reads (this node is '" +
                           node.precision.precision + "')");
    QRT_RETURN_IF_ERROR(check_float(node, *x, "x"));
  }
  if (x->shape.empty())
    return invalid_model(node_label(node) + "x is a scalar, expected at least 1 dim [..., K]");
  QRT_RETURN_IF_ERROR(check_rank(node, *w, 2, "weight"));
  QRT_RETURN_IF_ERROR(check_weight(node, *w, input_value(in, 1), "weight"));
  const int64_t n = w->shape[0];
  const int64_t k = w->shape[1];
  QRT_RETURN_IF_ERROR(
      check_dim(node, *x, x->shape.size() - 1, k, "x", "in_features K of weight [N, K]"));
  if (b) {
    QRT_RETURN_IF_ERROR(check_float(node, *b, "bias"));
    QRT_RETURN_IF_ERROR(check_rank(node, *b, 1, "bias"));
    QRT_RETURN_IF_ERROR(check_dim(node, *b, 0, n, "bias", "out_features N of weight [N, K]"));
  }

  DType y_dtype = int8_x ? DType::kF32 : x->dtype;
  if (const Value* out = output_value(in, 0); is_int8_static(node) && is_int8_activation(out))
    y_dtype = out->dtype;  // requantized in the epilogue for the next int8 op
  TensorType y{y_dtype, x->shape};
  y.shape.back() = b ? merge_dims(n, b->shape[0]) : n;
  return std::vector<TensorType>{y};
}

}  // namespace qrt::ir::ops
