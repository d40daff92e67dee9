// Add, Sub, Mul: elementwise with NumPy broadcasting (shapes aligned at the trailing dim; a dim of
// 1 stretches). With dynamic dims: ? with 1 -> ?, ? with n -> n (n != 1; the runtime must supply
// n), ? with ? -> ?.
#include "ir/ops/infer.h"

namespace qrt::ir::ops {

InferResult infer_binary(const Node& node, const InferInputs& in) {
  QRT_RETURN_IF_ERROR(attrs_as<NoAttrs>(node).status());
  QRT_ASSIGN_OR_RETURN(const TensorType* a, required_input(node, in, 0, "a"));
  QRT_ASSIGN_OR_RETURN(const TensorType* b, required_input(node, in, 1, "b"));
  QRT_RETURN_IF_ERROR(check_float(node, *a, "a"));
  QRT_RETURN_IF_ERROR(check_float(node, *b, "b"));
  if (a->dtype != b->dtype)
    return invalid_model(node_label(node) + "operands have different dtypes (" +
                         dtype_name(a->dtype) + " and " + dtype_name(b->dtype) + ")");

  Result<Shape> out = broadcast_shapes(a->shape, b->shape);
  if (!out.is_ok()) return invalid_model(node_label(node) + out.status().message());
  return std::vector<TensorType>{TensorType{a->dtype, std::move(out).value()}};
}

}  // namespace qrt::ir::ops
