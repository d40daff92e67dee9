// Internal to ir/: the per-op inference functions the OpSchema table points at, and the small
// helpers they share. Each function validates the node's attributes and its input dtypes/shapes and
// returns the output TensorTypes; every error message starts with node_label(node).
//
// The functions are defensive: they may be called with fewer inputs than the schema asks for (an
// input beyond `in.types` counts as absent) and with attributes of the wrong type, and they never
// read out of range. Input dims are >= kDynamicDim (infer_node checks that before calling them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/op_schema.h"

namespace qrt::ir::ops {

using InferResult = Result<std::vector<TensorType>>;

InferResult infer_linear(const Node& node, const InferInputs& in);
InferResult infer_lstm(const Node& node, const InferInputs& in);
InferResult infer_layer_norm(const Node& node, const InferInputs& in);
// Relu, Silu, Sigmoid, Tanh: y has x's type.
InferResult infer_unary(const Node& node, const InferInputs& in);
InferResult infer_leaky_relu(const Node& node, const InferInputs& in);
InferResult infer_gelu(const Node& node, const InferInputs& in);
// Add, Sub, Mul with NumPy broadcasting.
InferResult infer_binary(const Node& node, const InferInputs& in);
InferResult infer_reshape(const Node& node, const InferInputs& in);
InferResult infer_transpose(const Node& node, const InferInputs& in);
InferResult infer_slice(const Node& node, const InferInputs& in);
InferResult infer_concat(const Node& node, const InferInputs& in);
InferResult infer_fake_quant(const Node& node, const InferInputs& in);

// Number of elements Python's x[start:end:step] selects from a dim of static size `dim` (step >=
// 1).
int64_t slice_length(int64_t dim, int64_t start, int64_t end, int64_t step);

// ---- helpers shared by the infer functions (ir/ops/common.cpp) ----

// The type of input `i`, or nullptr when it is absent (kNoValue) or beyond the node's inputs.
const TensorType* input_type(const InferInputs& in, size_t i);
// The graph Value behind input `i`, or nullptr.
const Value* input_value(const InferInputs& in, size_t i);
// input_type for a required input: fails naming the node and `what` ("x", "weight") when absent.
Result<const TensorType*> required_input(const Node& node, const InferInputs& in, size_t i,
                                         const std::string& what);

// The attribute struct of type T, or an error naming the node when the node holds another type.
template <typename T>
Result<const T*> attrs_as(const Node& node) {
  if (const T* a = std::get_if<T>(&node.attrs)) return a;
  return invalid_model(node_label(node) + "attributes have the wrong type for this op");
}

// f32, f16 or bf16: the dtypes activations may have.
bool is_float_dtype(DType t);
// An int8 activation of a static int8 chain (ir/precision.h): a non-constant value stored as i8
// with symmetric per-tensor QuantParams, or as u8 with affine per-tensor QuantParams (the uint8
// range the static pass uses for affine activations), one scale.
bool is_int8_activation(const Value* v);
// The output Value `j` of the node when the caller passed it, else nullptr.
const Value* output_value(const InferInputs& in, size_t j);
// Fails unless `t` is a float activation dtype, naming the node and `what`.
Status check_float(const Node& node, const TensorType& t, const std::string& what);
// Fails unless `t` has exactly `rank` dims.
Status check_rank(const Node& node, const TensorType& t, size_t rank, const std::string& what);

// Two dims may describe the same runtime size: equal, or at least one dynamic.
bool dims_compatible(int64_t a, int64_t b);
// The more specific of two compatible dims (a static dim wins over kDynamicDim).
int64_t merge_dims(int64_t a, int64_t b);
// Fails unless dim `axis` of `t` is compatible with `expected`, naming what was expected and why.
Status check_dim(const Node& node, const TensorType& t, size_t axis, int64_t expected,
                 const std::string& what, const std::string& expected_what);

// a * b for non-negative dims; false on int64 overflow.
bool checked_mul(int64_t a, int64_t b, int64_t* out);
// a + b for non-negative dims; false on int64 overflow.
bool checked_add(int64_t a, int64_t b, int64_t* out);

// Data-movement ops (Reshape, Transpose, Slice, Concat) move any dtype but nf4
// (ir/ops/data_movement.cpp).
Status check_movable(const Node& node, const TensorType& t, const std::string& what);

// A Linear/LSTM weight: f32/f16/bf16 (quantization parameters, if any, are ignored), i8 with a
// symmetric per-tensor or per-channel (axis 0) QuantParams, or nf4 with an NF4Block QuantParams.
// The shape of every weight, nf4 included, is its logical [N, K].
Status check_weight(const Node& node, const TensorType& t, const Value* value,
                    const std::string& what);

}  // namespace qrt::ir::ops
