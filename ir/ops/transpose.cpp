// Transpose (PyTorch permute): output dim i is input dim perm[i]; perm is a permutation of
// 0..rank-1 (no negative entries, so kernels can use it as is).
#include "ir/ops/infer.h"

namespace qrt::ir::ops {

InferResult infer_transpose(const Node& node, const InferInputs& in) {
  QRT_ASSIGN_OR_RETURN(const TransposeAttrs* attrs, attrs_as<TransposeAttrs>(node));
  QRT_ASSIGN_OR_RETURN(const TensorType* x, required_input(node, in, 0, "x"));
  QRT_RETURN_IF_ERROR(check_movable(node, *x, "x"));
  const std::vector<int64_t>& perm = attrs->perm;
  const size_t rank = x->shape.size();
  if (perm.size() != rank)
    return invalid_model(node_label(node) + "perm has " + std::to_string(perm.size()) +
                         " entries but x " + shape_to_string(x->shape) + " has " +
                         std::to_string(rank) + " dims");
  std::vector<bool> seen(rank, false);
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t p = perm[i];
    if (p < 0 || static_cast<uint64_t>(p) >= rank || seen[static_cast<size_t>(p)])
      return invalid_model(node_label(node) + "perm entry " + std::to_string(i) + " (" +
                           std::to_string(p) + ") makes perm not a permutation of 0.." +
                           std::to_string(static_cast<int64_t>(rank) - 1));
    seen[static_cast<size_t>(p)] = true;
    out[i] = x->shape[static_cast<size_t>(p)];
  }
  return std::vector<TensorType>{TensorType{x->dtype, std::move(out)}};
}

}  // namespace qrt::ir::ops
