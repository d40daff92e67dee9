// Concat backward. The forward (ops/concat.cpp) views input k as [outer, dim_k, inner] and copies
// y[o, offset_k + j, i] = x_k[o, j, i] with offset_k = Σ_{m<k} dim_m; so each x_k's gradient is
// its block of dy: dx_k[o, j, i] += dy[o, offset_k + j, i].
#include <vector>

#include "train/gradients/gradient_support.h"
#include "train/gradients/gradients.h"

namespace qrt::train {

Status concat_backward(const GradientArgs& args) {
  const ir::Node& node = args.node;
  const std::size_t n = node.inputs.size();
  QRT_RETURN_IF_ERROR(expect_arity(args, 1, n < 1 ? 1 : n, 1, n));
  QRT_ASSIGN_OR_RETURN(const ir::ConcatAttrs* attrs, gradient_attrs<ir::ConcatAttrs>(node));
  const ir::Shape& first = args.inputs[0].shape;
  const int rank = static_cast<int>(first.size());
  Result<int> axis = ir::normalize_axis(attrs->axis, rank, "concat");
  if (!axis.is_ok()) return gradient_error(node, axis.status().message());
  ir::Shape y = first;
  y[*axis] = 0;
  std::vector<int64_t> dims;
  for (std::size_t k = 0; k < n; ++k) {
    const ir::Shape& s = args.inputs[k].shape;
    bool compatible = static_cast<int>(s.size()) == rank;
    for (int d = 0; compatible && d < rank; ++d) compatible = d == *axis || s[d] == first[d];
    if (!compatible)
      return gradient_error(node, "input " + std::to_string(k) + " has shape " +
                                      ir::shape_to_string(s) + ", which does not match input 0 " +
                                      ir::shape_to_string(first) + " outside axis " +
                                      std::to_string(*axis));
    dims.push_back(s[*axis]);
    y[*axis] += s[*axis];
  }
  QRT_RETURN_IF_ERROR(expect_output_shape(args, 0, "output y", y));
  const float* dy = output_grad(args, 0);
  if (dy == nullptr) return Status::ok();

  const int64_t outer = ir::numel(ir::Shape(first.begin(), first.begin() + *axis));
  const int64_t inner = ir::numel(ir::Shape(first.begin() + *axis + 1, first.end()));
  const int64_t y_dim = y[*axis];
  int64_t offset = 0;
  for (std::size_t k = 0; k < n; ++k) {
    if (float* dx = wanted_grad(args, k)) {
      const int64_t block = dims[k] * inner;  // dx_k[o] is one contiguous block
      for (int64_t o = 0; o < outer; ++o)
        accumulate(dx + o * block, dy + (o * y_dim + offset) * inner, block);
    }
    offset += dims[k];
  }
  return Status::ok();
}

}  // namespace qrt::train
