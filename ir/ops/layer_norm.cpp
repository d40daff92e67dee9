// LayerNorm over the last dim (PyTorch nn.LayerNorm(D)):
//   y = (x - mean) / sqrt(var + eps) * gamma + beta, x [..., D], gamma? [D], beta? [D] -> y like x.
#include <cmath>

#include "ir/ops/infer.h"

namespace qrt::ir::ops {

InferResult infer_layer_norm(const Node& node, const InferInputs& in) {
  QRT_ASSIGN_OR_RETURN(const LayerNormAttrs* attrs, attrs_as<LayerNormAttrs>(node));
  if (!std::isfinite(attrs->eps) || !(attrs->eps > 0.0f))
    return invalid_model(node_label(node) + "eps " + std::to_string(attrs->eps) +
                         " must be finite and > 0");
  QRT_ASSIGN_OR_RETURN(const TensorType* x, required_input(node, in, 0, "x"));
  QRT_RETURN_IF_ERROR(check_float(node, *x, "x"));
  if (x->shape.empty())
    return invalid_model(node_label(node) + "x is a scalar, expected at least 1 dim [..., D]");
  const int64_t d = x->shape.back();
  const char* names[] = {"gamma", "beta"};
  for (size_t i = 1; i <= 2; ++i) {
    const TensorType* p = input_type(in, i);
    if (!p) continue;
    QRT_RETURN_IF_ERROR(check_float(node, *p, names[i - 1]));
    QRT_RETURN_IF_ERROR(check_rank(node, *p, 1, names[i - 1]));
    QRT_RETURN_IF_ERROR(check_dim(node, *p, 0, d, names[i - 1], "last dim D of x"));
  }
  return std::vector<TensorType>{*x};
}

}  // namespace qrt::ir::ops
