// Concat (torch.cat) along one axis (may be negative, Python style): all inputs share dtype and
// rank, every other dim agrees, the axis dims add up (? if any of them is ?).
#include "ir/ops/infer.h"

namespace qrt::ir::ops {

InferResult infer_concat(const Node& node, const InferInputs& in) {
  QRT_ASSIGN_OR_RETURN(const ConcatAttrs* attrs, attrs_as<ConcatAttrs>(node));
  if (in.types.empty()) return invalid_model(node_label(node) + "needs at least one input");
  QRT_ASSIGN_OR_RETURN(const TensorType* first, required_input(node, in, 0, "x0"));
  QRT_RETURN_IF_ERROR(check_movable(node, *first, "x0"));
  const size_t rank = first->shape.size();
  QRT_ASSIGN_OR_RETURN(const int axis, normalize_axis(attrs->axis, static_cast<int>(rank),
                                                      node_label(node) + "concat of x0 " +
                                                          shape_to_string(first->shape)));
  Shape out = first->shape;
  for (size_t i = 1; i < in.types.size(); ++i) {
    const std::string what = std::string("x") + std::to_string(i);
    QRT_ASSIGN_OR_RETURN(const TensorType* t, required_input(node, in, i, what));
    if (t->dtype != first->dtype)
      return invalid_model(node_label(node) + what + " has dtype " + dtype_name(t->dtype) +
                           " but x0 has " + dtype_name(first->dtype));
    QRT_RETURN_IF_ERROR(check_rank(node, *t, rank, what));
    for (size_t d = 0; d < rank; ++d) {
      if (d == static_cast<size_t>(axis)) {
        int64_t& sum = out[d];
        if (sum == kDynamicDim || t->shape[d] == kDynamicDim) {
          sum = kDynamicDim;
        } else if (!checked_add(sum, t->shape[d], &sum)) {
          return invalid_model(node_label(node) + "concatenated dim overflows");
        }
        continue;
      }
      QRT_RETURN_IF_ERROR(check_dim(node, *t, d, out[d], what, "the other inputs' dim"));
      out[d] = merge_dims(out[d], t->shape[d]);
    }
  }
  return std::vector<TensorType>{TensorType{first->dtype, std::move(out)}};
}

}  // namespace qrt::ir::ops
