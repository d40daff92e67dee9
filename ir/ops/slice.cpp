// Slice: Python x[start:end:step] along one axis (the axis may be negative, Python style).
// Negative start/end count from the end, out-of-range bounds clamp to [0, dim], step >= 1, so the
// length is ceil((end' - start') / step) when end' > start', else 0. squeeze=true drops the axis
// and requires exactly one selected element (x[:, i]). Along a dynamic axis the length is ?, or the
// axis is dropped when squeezing (the count is checked again with concrete shapes).
#include <algorithm>

#include "ir/ops/infer.h"

namespace qrt::ir::ops {

namespace {
// Python's clamping of a slice bound for a dim of size `dim` (dim >= 0).
int64_t clamp_bound(int64_t bound, int64_t dim) {
  if (bound < 0)
    return std::max<int64_t>(bound + dim, 0);  // bound + dim cannot overflow: bound < 0
  return std::min(bound, dim);
}
}  // namespace

int64_t slice_length(int64_t dim, int64_t start, int64_t end, int64_t step) {
  const int64_t s = clamp_bound(start, dim);
  const int64_t e = clamp_bound(end, dim);
  if (e <= s) return 0;
  return (e - s - 1) / step + 1;  // ceil((e - s) / step) without overflowing
}

InferResult infer_slice(const Node& node, const InferInputs& in) {
  QRT_ASSIGN_OR_RETURN(const SliceAttrs* attrs, attrs_as<SliceAttrs>(node));
  QRT_ASSIGN_OR_RETURN(const TensorType* x, required_input(node, in, 0, "x"));
  QRT_RETURN_IF_ERROR(check_movable(node, *x, "x"));
  if (attrs->step < 1)
    return invalid_model(node_label(node) + "step " + std::to_string(attrs->step) +
                         " must be >= 1");
  QRT_ASSIGN_OR_RETURN(
      const int axis, normalize_axis(attrs->axis, static_cast<int>(x->shape.size()),
                                     node_label(node) + "slice of x " + shape_to_string(x->shape)));
  const std::string range = std::string("[") + std::to_string(attrs->start) + ":" +
                            std::to_string(attrs->end) + ":" + std::to_string(attrs->step) + "]";
  Shape out = x->shape;
  const int64_t dim = x->shape[static_cast<size_t>(axis)];
  if (dim == kDynamicDim) {
    // With both bounds on the same side, clamping can only shorten the slice: an empty range stays
    // empty for every size.
    const bool same_side = (attrs->start < 0) == (attrs->end < 0);
    if (attrs->squeeze && same_side && attrs->end <= attrs->start)
      return invalid_model(node_label(node) + "squeeze of slice " + range + " along axis " +
                           std::to_string(axis) + " selects no element");
    out[static_cast<size_t>(axis)] = kDynamicDim;
  } else {
    const int64_t len = slice_length(dim, attrs->start, attrs->end, attrs->step);
    if (attrs->squeeze && len != 1)
      return invalid_model(node_label(node) + "squeeze of slice " + range + " along axis " +
                           std::to_string(axis) + " of x " + shape_to_string(x->shape) +
                           " selects " + std::to_string(len) + " elements, expected exactly 1");
    out[static_cast<size_t>(axis)] = len;
  }
  if (attrs->squeeze) out.erase(out.begin() + axis);
  return std::vector<TensorType>{TensorType{x->dtype, std::move(out)}};
}

}  // namespace qrt::ir::ops
