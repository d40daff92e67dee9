#include "ops/kernel_support.h"

#include "ir/op_schema.h"

namespace qrt::ops {

namespace {

bool is_plain_f32(const ir::Graph& graph, ir::ValueId id) {
  if (id < 0 || static_cast<std::size_t>(id) >= graph.values.size()) return false;
  const ir::Value& v = graph.values[id];
  const bool quantized = v.quant.has_value() && v.quant->scheme != ir::QuantScheme::kNone;
  return v.dtype == ir::DType::kF32 && !quantized;
}

}  // namespace

bool all_f32_unquantized(const ir::Graph& graph, const ir::Node& node) {
  for (ir::ValueId id : node.inputs)
    if (id != ir::kNoValue && !is_plain_f32(graph, id)) return false;
  for (ir::ValueId id : node.outputs)
    if (!is_plain_f32(graph, id)) return false;
  return true;
}

Status node_error(const ir::Node& node, const std::string& message) {
  return invalid_model(ir::node_label(node) + message);
}

Status check_context(const runtime::PrepareContext& ctx, std::size_t min_inputs,
                     std::size_t max_inputs, std::size_t num_outputs, std::size_t required_inputs) {
  const ir::Node& node = ctx.node;
  if (ctx.input_types.size() != node.inputs.size() ||
      ctx.output_types.size() != node.outputs.size())
    return node_error(node, "prepare context has " + std::to_string(ctx.input_types.size()) +
                                " input and " + std::to_string(ctx.output_types.size()) +
                                " output types for a node with " +
                                std::to_string(node.inputs.size()) + " inputs and " +
                                std::to_string(node.outputs.size()) + " outputs");
  const std::size_t n_in = node.inputs.size();
  if (n_in < min_inputs || n_in > max_inputs)
    return node_error(node, "has " + std::to_string(n_in) + " inputs, expected " +
                                (min_inputs == max_inputs ? std::to_string(min_inputs)
                                                          : std::to_string(min_inputs) + " to " +
                                                                std::to_string(max_inputs)));
  if (node.outputs.size() != num_outputs)
    return node_error(node, "has " + std::to_string(node.outputs.size()) + " outputs, expected " +
                                std::to_string(num_outputs));
  auto check_type = [&](const ir::TensorType* t, const std::string& what) -> Status {
    if (t->dtype != ir::DType::kF32)
      return unsupported(ir::node_label(node) + what + " is " + ir::dtype_name(t->dtype) +
                         ", the CPU reference kernel computes in f32");
    if (!ir::is_static(t->shape))
      return node_error(node, what + " has a non-concrete shape " + ir::shape_to_string(t->shape));
    return Status::ok();
  };
  for (std::size_t i = 0; i < n_in; ++i) {
    const ir::TensorType* t = ctx.input_types[i];
    if (t == nullptr) {
      if (i < required_inputs)
        return node_error(node, "required input " + std::to_string(i) + " is absent");
      continue;
    }
    QRT_RETURN_IF_ERROR(check_type(t, "input " + std::to_string(i)));
  }
  for (std::size_t i = 0; i < num_outputs; ++i) {
    if (ctx.output_types[i] == nullptr)
      return node_error(node, "output " + std::to_string(i) + " has no type");
    QRT_RETURN_IF_ERROR(check_type(ctx.output_types[i], "output " + std::to_string(i)));
  }
  return Status::ok();
}

Status expect_shape(const ir::Node& node, const std::string& what, const ir::Shape& got,
                    const ir::Shape& expected) {
  if (got == expected) return Status::ok();
  return node_error(node, what + " has shape " + ir::shape_to_string(got) + ", expected " +
                              ir::shape_to_string(expected));
}

}  // namespace qrt::ops
