// Transpose backward: y[j] = x[i] with i[perm[k]] = j_k, so dx[i] += dy[j] — the inverse
// permutation applied to dy. Walking y in row-major order, y dim k advances x by x's stride of dim
// perm[k].
#include <vector>

#include "train/gradients/gradient_support.h"
#include "train/gradients/gradients.h"

namespace qrt::train {

Status transpose_backward(const GradientArgs& args) {
  const ir::Node& node = args.node;
  QRT_RETURN_IF_ERROR(expect_arity(args, 1, 1, 1, 1));
  QRT_ASSIGN_OR_RETURN(const ir::TransposeAttrs* attrs, gradient_attrs<ir::TransposeAttrs>(node));
  const ir::Shape& x = args.inputs[0].shape;
  const std::size_t rank = x.size();
  if (attrs->perm.size() != rank)
    return gradient_error(node, "perm has " + std::to_string(attrs->perm.size()) +
                                    " entries for an input of rank " + std::to_string(rank));
  std::vector<bool> seen(rank, false);
  ir::Shape y(rank);
  for (std::size_t k = 0; k < rank; ++k) {
    const int64_t p = attrs->perm[k];
    if (p < 0 || p >= static_cast<int64_t>(rank) || seen[p])
      return gradient_error(node, "perm is not a permutation of the input dims");
    seen[p] = true;
    y[k] = x[p];
  }
  QRT_RETURN_IF_ERROR(expect_output_shape(args, 0, "output y", y));
  const float* dy = output_grad(args, 0);
  float* dx = wanted_grad(args, 0);
  const int64_t total = ir::numel(y);
  if (dy == nullptr || dx == nullptr || total == 0) return Status::ok();

  const ir::Shape x_strides = row_major_strides(x);
  ir::Shape step(rank);  // x offset step per unit of y dim k
  for (std::size_t k = 0; k < rank; ++k) step[k] = x_strides[attrs->perm[k]];
  std::vector<int64_t> index(rank, 0);
  int64_t offset = 0;
  for (int64_t j = 0; j < total; ++j) {
    dx[offset] += dy[j];
    for (std::size_t k = rank; k-- > 0;) {
      offset += step[k];
      if (++index[k] < y[k]) break;
      offset -= step[k] * y[k];
      index[k] = 0;
    }
  }
  return Status::ok();
}

}  // namespace qrt::train
