// Linear (PyTorch nn.Linear): y = x·Wᵀ + b over any leading dims.
//   x [..., K], weight [N, K], bias? [N] -> y [..., N], dtype of x.
#include "ir/ops/infer.h"

namespace qrt::ir::ops {

InferResult infer_linear(const Node& node, const InferInputs& in) {
  QRT_RETURN_IF_ERROR(attrs_as<LinearAttrs>(node).status());
  QRT_ASSIGN_OR_RETURN(const TensorType* x, required_input(node, in, 0, "x"));
  QRT_ASSIGN_OR_RETURN(const TensorType* w, required_input(node, in, 1, "weight"));
  const TensorType* b = input_type(in, 2);

  QRT_RETURN_IF_ERROR(check_float(node, *x, "x"));
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

  TensorType y{x->dtype, x->shape};
  y.shape.back() = b ? merge_dims(n, b->shape[0]) : n;
  return std::vector<TensorType>{y};
}

}  // namespace qrt::ir::ops
