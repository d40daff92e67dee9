// Slice backward. The forward (ops/slice.cpp) views x as [outer, dim, inner] around the axis and
// copies y[o, j, k] = x[o, start + j·step, k]; so dx[o, start + j·step, k] += dy[o, j, k] and the
// unselected elements of x get no gradient. The bounds normalize exactly as in the forward
// (Python rules: negative counts from the end, then clamp to [0, dim]).
#include <algorithm>

#include "train/gradients/gradient_support.h"
#include "train/gradients/gradients.h"

namespace qrt::train {

namespace {

int64_t normalize_bound(int64_t index, int64_t dim) {
  if (index < 0) index = index < -dim ? 0 : index + dim;  // written to avoid overflow at INT64_MIN
  return std::min(index, dim);
}

}  // namespace

Status slice_backward(const GradientArgs& args) {
  const ir::Node& node = args.node;
  QRT_RETURN_IF_ERROR(expect_arity(args, 1, 1, 1, 1));
  QRT_ASSIGN_OR_RETURN(const ir::SliceAttrs* attrs, gradient_attrs<ir::SliceAttrs>(node));
  const ir::Shape& x = args.inputs[0].shape;
  Result<int> axis = ir::normalize_axis(attrs->axis, static_cast<int>(x.size()), "slice");
  if (!axis.is_ok()) return gradient_error(node, axis.status().message());
  if (attrs->step < 1)
    return gradient_error(node, "step " + std::to_string(attrs->step) + " must be >= 1");
  const int64_t dim = x[*axis];
  const int64_t start = normalize_bound(attrs->start, dim);
  const int64_t end = normalize_bound(attrs->end, dim);
  const int64_t step = attrs->step;
  const int64_t count = end > start ? (end - start - 1) / step + 1 : 0;
  ir::Shape y = x;
  if (attrs->squeeze) {
    if (count != 1)
      return gradient_error(node,
                            "squeeze needs exactly one element along the axis, the slice "
                            "selects " +
                                std::to_string(count));
    y.erase(y.begin() + *axis);
  } else {
    y[*axis] = count;
  }
  QRT_RETURN_IF_ERROR(expect_output_shape(args, 0, "output y", y));
  const float* dy = output_grad(args, 0);
  float* dx = wanted_grad(args, 0);
  if (dy == nullptr || dx == nullptr) return Status::ok();

  const int64_t outer = ir::numel(ir::Shape(x.begin(), x.begin() + *axis));
  const int64_t inner = ir::numel(ir::Shape(x.begin() + *axis + 1, x.end()));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < count; ++j)
      accumulate(dx + (o * dim + start + j * step) * inner, dy + (o * count + j) * inner, inner);
  return Status::ok();
}

}  // namespace qrt::train
