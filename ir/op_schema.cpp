// The OpKind -> OpSchema table and the generic checks every node goes through before its op's
// inference function.
#include "ir/op_schema.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "ir/ops/infer.h"

namespace qrt::ir {

namespace {

constexpr int kVariadic = -1;

constexpr std::array<OpSchema, kNumOpKinds> kSchemas = {{
    {OpKind::kLinear, 2, 3, 1, ops::infer_linear},
    // x, h0, c0 + 4 per layer: at least one layer; the exact count depends on num_layers.
    {OpKind::kLSTM, 7, kVariadic, 3, ops::infer_lstm},
    {OpKind::kLayerNorm, 1, 3, 1, ops::infer_layer_norm},
    {OpKind::kRelu, 1, 1, 1, ops::infer_unary},
    {OpKind::kLeakyRelu, 1, 1, 1, ops::infer_leaky_relu},
    {OpKind::kGelu, 1, 1, 1, ops::infer_gelu},
    {OpKind::kSilu, 1, 1, 1, ops::infer_unary},
    {OpKind::kSigmoid, 1, 1, 1, ops::infer_unary},
    {OpKind::kTanh, 1, 1, 1, ops::infer_unary},
    {OpKind::kAdd, 2, 2, 1, ops::infer_binary},
    {OpKind::kSub, 2, 2, 1, ops::infer_binary},
    {OpKind::kMul, 2, 2, 1, ops::infer_binary},
    {OpKind::kReshape, 1, 1, 1, ops::infer_reshape},
    {OpKind::kTranspose, 1, 1, 1, ops::infer_transpose},
    {OpKind::kSlice, 1, 1, 1, ops::infer_slice},
    {OpKind::kConcat, 1, kVariadic, 1, ops::infer_concat},
    // x, scale (absent in NF4 mode), zero_point (affine only).
    {OpKind::kFakeQuant, 1, 3, 1, ops::infer_fake_quant},
}};

// The table is indexed by OpKind: check each row sits at its op's position in ops.def.
constexpr bool table_matches_ops_def() {
  for (int i = 0; i < kNumOpKinds; ++i)
    if (static_cast<int>(kSchemas[static_cast<size_t>(i)].op) != i) return false;
  return true;
}
static_assert(table_matches_ops_def(), "kSchemas must list the ops in ops.def order");

Result<std::vector<TensorType>> infer_unknown_op(const Node& node, const InferInputs&) {
  return invalid_model(node_label(node) + "unknown op " +
                       std::to_string(static_cast<int>(node.op)));
}
constexpr OpSchema kUnknownSchema = {OpKind::kRelu, 0, kVariadic, 0, infer_unknown_op};

}  // namespace

const OpSchema& op_schema(OpKind op) {
  const auto i = static_cast<size_t>(op);
  return i < kSchemas.size() ? kSchemas[i] : kUnknownSchema;
}

std::string node_label(const Node& node) {
  return "node '" + node.name + "' (" + op_name(node.op) + "): ";
}

Status check_node_signature(const Node& node) {
  if (!is_valid_op(static_cast<uint16_t>(node.op)))
    return invalid_model(node_label(node) + "unknown op " +
                         std::to_string(static_cast<int>(node.op)));
  const OpSchema& schema = op_schema(node.op);
  if (!attrs_match_op(node.op, node.attrs))
    return invalid_model(node_label(node) + "attributes have the wrong type for this op");
  const int num_inputs = static_cast<int>(std::min<size_t>(node.inputs.size(), INT32_MAX));
  if (num_inputs < schema.min_inputs ||
      (schema.max_inputs != kVariadic && num_inputs > schema.max_inputs)) {
    const std::string expected =
        schema.max_inputs == kVariadic ? "at least " + std::to_string(schema.min_inputs)
        : schema.min_inputs == schema.max_inputs
            ? std::to_string(schema.min_inputs)
            : std::to_string(schema.min_inputs) + " to " + std::to_string(schema.max_inputs);
    return invalid_model(node_label(node) + "has " + std::to_string(node.inputs.size()) +
                         " inputs, expected " + expected);
  }
  if (node.outputs.size() != static_cast<size_t>(schema.num_outputs))
    return invalid_model(node_label(node) + "has " + std::to_string(node.outputs.size()) +
                         " outputs, expected " + std::to_string(schema.num_outputs));
  if (const auto* lstm = std::get_if<LstmAttrs>(&node.attrs)) {
    if (lstm->hidden_size < 1)
      return invalid_model(node_label(node) + "hidden_size " + std::to_string(lstm->hidden_size) +
                           " must be >= 1");
    if (lstm->num_layers < 1)
      return invalid_model(node_label(node) + "num_layers " + std::to_string(lstm->num_layers) +
                           " must be >= 1");
    // x, h0, c0, then w_ih, w_hh, b_ih, b_hh per layer (absent optional ones as kNoValue).
    const size_t n = node.inputs.size();
    if ((n - 3) % 4 != 0 ||
        static_cast<uint64_t>((n - 3) / 4) != static_cast<uint64_t>(lstm->num_layers))
      return invalid_model(node_label(node) + "has " + std::to_string(n) +
                           " inputs, expected 3 + 4 * num_layers = " +
                           (lstm->num_layers <= (INT64_MAX - 3) / 4
                                ? std::to_string(3 + 4 * lstm->num_layers)
                                : std::string("(too many)")));
  }
  return Status::ok();
}

Result<std::vector<TensorType>> infer_node(const Node& node, const InferInputs& in) {
  QRT_RETURN_IF_ERROR(check_node_signature(node));
  if (in.types.size() != node.inputs.size() || in.values.size() > in.types.size())
    return internal_error(node_label(node) + "inference got " + std::to_string(in.types.size()) +
                          " input types for " + std::to_string(node.inputs.size()) + " inputs");
  for (size_t i = 0; i < in.types.size(); ++i) {
    const TensorType* t = in.types[i];
    if (!t) continue;
    for (int64_t d : t->shape)
      if (d < kDynamicDim)
        return invalid_model(node_label(node) + "input " + std::to_string(i) + " has shape " +
                             shape_to_string(t->shape) + " with a negative dim");
  }
  QRT_ASSIGN_OR_RETURN(std::vector<TensorType> out, op_schema(node.op).infer(node, in));
  if (out.size() != node.outputs.size())
    return internal_error(node_label(node) + "inference returned " + std::to_string(out.size()) +
                          " types for " + std::to_string(node.outputs.size()) + " outputs");
  return out;
}

}  // namespace qrt::ir
