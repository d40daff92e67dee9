// Helpers shared by the per-op inference functions.
#include <limits>
#include <string>

#include "ir/ops/infer.h"

namespace qrt::ir::ops {

const TensorType* input_type(const InferInputs& in, size_t i) {
  return i < in.types.size() ? in.types[i] : nullptr;
}

const Value* input_value(const InferInputs& in, size_t i) {
  return i < in.values.size() ? in.values[i] : nullptr;
}

Result<const TensorType*> required_input(const Node& node, const InferInputs& in, size_t i,
                                         const std::string& what) {
  if (const TensorType* t = input_type(in, i)) return t;
  return invalid_model(node_label(node) + "required input " + std::to_string(i) + " (" + what +
                       ") is missing");
}

const Value* output_value(const InferInputs& in, size_t j) {
  return j < in.outputs.size() ? in.outputs[j] : nullptr;
}

bool is_int8_activation(const Value* v) {
  if (v == nullptr || v->is_constant() || !v->quant || v->quant->scales.size() != 1) return false;
  if (v->dtype == DType::kI8) return v->quant->scheme == QuantScheme::kSymmetricPerTensor;
  if (v->dtype == DType::kU8)
    return v->quant->scheme == QuantScheme::kAffinePerTensor && v->quant->zero_points.size() == 1;
  return false;
}

bool is_float_dtype(DType t) {
  return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16;
}

Status check_float(const Node& node, const TensorType& t, const std::string& what) {
  if (is_float_dtype(t.dtype)) return Status::ok();
  return invalid_model(node_label(node) + what + " has dtype " + dtype_name(t.dtype) +
                       ", expected f32, f16 or bf16");
}

Status check_rank(const Node& node, const TensorType& t, size_t rank, const std::string& what) {
  if (t.shape.size() == rank) return Status::ok();
  return invalid_model(node_label(node) + what + " has shape " + shape_to_string(t.shape) + " (" +
                       std::to_string(t.shape.size()) + " dims), expected " + std::to_string(rank) +
                       " dims");
}

bool dims_compatible(int64_t a, int64_t b) {
  return a == b || a == kDynamicDim || b == kDynamicDim;
}

int64_t merge_dims(int64_t a, int64_t b) {
  return a == kDynamicDim ? b : a;
}

Status check_dim(const Node& node, const TensorType& t, size_t axis, int64_t expected,
                 const std::string& what, const std::string& expected_what) {
  if (axis < t.shape.size() && dims_compatible(t.shape[axis], expected)) return Status::ok();
  const std::string expected_str = expected == kDynamicDim ? "?" : std::to_string(expected);
  return invalid_model(node_label(node) + what + " has shape " + shape_to_string(t.shape) +
                       ": dim " + std::to_string(axis) + " must be " + expected_str + " (" +
                       expected_what + ")");
}

bool checked_mul(int64_t a, int64_t b, int64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}

bool checked_add(int64_t a, int64_t b, int64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}

}  // namespace qrt::ir::ops
