// Runs one node's shape inference on hand-written input types (tests/ir only).
#pragma once

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "ir/op_schema.h"

// Shapes print as "[2, ?, 7]" in failed checks.
namespace doctest {
template <>
struct StringMaker<std::vector<int64_t>> {
  static String convert(const std::vector<int64_t>& s) {
    return qrt::ir::shape_to_string(s).c_str();
  }
};
}  // namespace doctest

namespace qrt::ir::testing {

inline constexpr int64_t Q = kDynamicDim;  // reads as "?" in the expected shapes below

struct InputSpec {
  TensorType type;
  std::optional<QuantParams> quant = {};
};
// An absent optional input (kNoValue).
inline const std::optional<InputSpec> kAbsent;

// Infers a node called "n1" of `op` over `inputs` (nullopt = absent optional input). The node gets
// the number of outputs its schema declares.
inline Result<std::vector<TensorType>> infer_one(
    OpKind op, Attrs attrs, const std::vector<std::optional<InputSpec>>& inputs) {
  Node node;
  node.name = "n1";
  node.op = op;
  node.attrs = std::move(attrs);
  std::vector<Value> values(inputs.size());
  InferInputs in;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i]) {
      node.inputs.push_back(kNoValue);
      continue;
    }
    values[i].name = "in" + std::to_string(i);
    values[i].dtype = inputs[i]->type.dtype;
    values[i].shape = inputs[i]->type.shape;
    values[i].quant = inputs[i]->quant;
    node.inputs.push_back(static_cast<ValueId>(i));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    in.types.push_back(inputs[i] ? &inputs[i]->type : nullptr);
    in.values.push_back(inputs[i] ? &values[i] : nullptr);
  }
  const int outputs = static_cast<int>(op) < kNumOpKinds ? op_schema(op).num_outputs : 1;
  for (int j = 0; j < outputs; ++j) node.outputs.push_back(static_cast<ValueId>(inputs.size()) + j);
  return infer_node(node, in);
}

inline InputSpec f32(Shape s) {
  return {TensorType{DType::kF32, std::move(s)}};
}
inline InputSpec typed(DType t, Shape s) {
  return {TensorType{t, std::move(s)}};
}
inline InputSpec quantized(DType t, Shape s, QuantParams q) {
  InputSpec spec;
  spec.type = TensorType{t, std::move(s)};
  spec.quant = std::move(q);
  return spec;
}

// The first output's shape, failing the test (with the error) when inference failed.
inline Shape shape_of(const Result<std::vector<TensorType>>& r, size_t output = 0) {
  INFO(r.status().to_string());
  REQUIRE(r.is_ok());
  REQUIRE(r->size() > output);
  return r->at(output).shape;
}

// Inference failed with a message that names the node and contains `fragment`.
inline void check_fails(const Result<std::vector<TensorType>>& r, const std::string& fragment,
                        const std::string& node_prefix = "node 'n1' (") {
  REQUIRE_FALSE(r.is_ok());
  const std::string& m = r.status().message();
  INFO("message: " << m);
  CHECK(m.rfind(node_prefix, 0) == 0);
  CHECK(m.find(fragment) != std::string::npos);
}

}  // namespace qrt::ir::testing
