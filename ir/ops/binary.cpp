// Add, Sub, Mul: elementwise with NumPy broadcasting (shapes aligned at the trailing dim; a dim of
// 1 stretches). With dynamic dims: ? with 1 -> ?, ? with n -> n (n != 1; the runtime must supply
// n), ? with ? -> ?.
#include <algorithm>

#include "ir/ops/infer.h"

namespace qrt::ir::ops {

namespace {
// Broadcast of two dims, or nullopt when they cannot broadcast.
std::optional<int64_t> broadcast_dim(int64_t a, int64_t b) {
  if (a == b) return a;
  if (a == 1) return b;
  if (b == 1) return a;
  if (a == kDynamicDim) return b;
  if (b == kDynamicDim) return a;
  return std::nullopt;
}
}  // namespace

InferResult infer_binary(const Node& node, const InferInputs& in) {
  QRT_RETURN_IF_ERROR(attrs_as<NoAttrs>(node).status());
  QRT_ASSIGN_OR_RETURN(const TensorType* a, required_input(node, in, 0, "a"));
  QRT_ASSIGN_OR_RETURN(const TensorType* b, required_input(node, in, 1, "b"));
  QRT_RETURN_IF_ERROR(check_float(node, *a, "a"));
  QRT_RETURN_IF_ERROR(check_float(node, *b, "b"));
  if (a->dtype != b->dtype)
    return invalid_model(node_label(node) + "operands have different dtypes (" +
                         dtype_name(a->dtype) + " and " + dtype_name(b->dtype) + ")");

  const size_t rank = std::max(a->shape.size(), b->shape.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Index from the right: missing leading dims count as 1.
    const size_t from_end = rank - 1 - i;
    const int64_t da = from_end < a->shape.size() ? a->shape[a->shape.size() - 1 - from_end] : 1;
    const int64_t db = from_end < b->shape.size() ? b->shape[b->shape.size() - 1 - from_end] : 1;
    const std::optional<int64_t> d = broadcast_dim(da, db);
    if (!d)
      return invalid_model(node_label(node) + "shapes " + shape_to_string(a->shape) + " and " +
                           shape_to_string(b->shape) + " do not broadcast (dim " +
                           std::to_string(i) + " of the result)");
    out[i] = *d;
  }
  return std::vector<TensorType>{TensorType{a->dtype, std::move(out)}};
}

}  // namespace qrt::ir::ops
