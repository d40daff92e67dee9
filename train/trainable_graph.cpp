#include "train/trainable_graph.h"

#include <cstring>
#include <limits>
#include <variant>

#include "ir/passes/precision_policy.h"
#include "train/op_gradient.h"

namespace qrt::train {

namespace {

// LSTM inputs: x, h0, c0, then the weights and biases of every layer.
constexpr std::size_t kLstmFirstWeightInput = 3;

bool frozen(const std::string& name, std::span<const std::string> patterns) {
  for (const std::string& p : patterns)
    if (ir::passes::matches_pattern(name, p)) return true;
  return false;
}

}  // namespace

bool is_parameter_slot(const ir::Node& node, std::size_t input_index) {
  switch (node.op) {
    case ir::OpKind::kLinear:
    case ir::OpKind::kLayerNorm:
      return input_index == 1 || input_index == 2;
    case ir::OpKind::kLSTM:
      return input_index >= kLstmFirstWeightInput;
    case ir::OpKind::kFakeQuant: {
      // Input 0 is only ever a constant for a weight (activations are computed values).
      if (input_index == 0) return true;
      const auto* attrs = std::get_if<ir::FakeQuantAttrs>(&node.attrs);
      return attrs != nullptr && attrs->learnable_scale && input_index <= 2;
    }
    default:
      return false;
  }
}

Result<TrainableGraph> make_trainable_graph(const ir::Graph& graph,
                                            std::span<const std::string> freeze_patterns) {
  QRT_RETURN_IF_ERROR(ir::verify(graph).with_context("the model to train"));
  for (const ir::Node& node : graph.nodes) QRT_RETURN_IF_ERROR(check_no_fused_activation(node));
  TrainableGraph out;
  out.graph = graph;
  std::vector<bool> chosen(graph.values.size(), false);
  for (const ir::Node& node : graph.nodes) {
    for (std::size_t i = 0; i < node.inputs.size(); ++i) {
      const ir::ValueId v = node.inputs[i];
      if (v == ir::kNoValue || chosen[static_cast<std::size_t>(v)]) continue;
      if (!is_parameter_slot(node, i)) continue;
      const ir::Value& value = graph.values[static_cast<std::size_t>(v)];
      if (!value.is_constant() || value.dtype != ir::DType::kF32 || value.quant.has_value())
        continue;
      if (frozen(value.name, freeze_patterns)) continue;
      chosen[static_cast<std::size_t>(v)] = true;
      Parameter p;
      p.name = value.name;
      p.shape = value.shape;
      const auto data = value.data->as<float>();
      p.value.assign(data.begin(), data.end());
      p.grad.assign(p.value.size(), 0.0f);
      if (node.op == ir::OpKind::kFakeQuant && i == 1)
        p.min_value = std::numeric_limits<float>::epsilon();  // a scale must stay > 0
      out.parameters.push_back(std::move(p));
      out.parameter_values.push_back(v);
      ir::Value& clone = out.graph.values[static_cast<std::size_t>(v)];
      clone.data.reset();
      out.graph.inputs.push_back(v);
    }
  }
  if (out.parameters.empty())
    return invalid_argument(
        "the model has no trainable parameters (no f32 Linear, LSTM or LayerNorm weight left "
        "after freezing)");
  QRT_RETURN_IF_ERROR(ir::verify(out.graph).with_context("the graph with parameters as inputs"));
  return out;
}

Result<ir::Graph> graph_with_parameters(const ir::Graph& graph,
                                        std::span<const Parameter> parameters) {
  ir::Graph out = graph;
  for (const Parameter& p : parameters) {
    const ir::ValueId v = out.find_value(p.name);
    if (v == ir::kNoValue)
      return invalid_argument("parameter '" + p.name + "' is not in the graph");
    ir::Value& value = out.values[static_cast<std::size_t>(v)];
    if (!value.is_constant() || value.dtype != ir::DType::kF32 || value.shape != p.shape ||
        static_cast<int64_t>(p.value.size()) != ir::numel(p.shape))
      return invalid_argument("parameter '" + p.name + "' of shape " +
                              ir::shape_to_string(p.shape) +
                              " does not match the graph's f32 constant of that name");
    QRT_ASSIGN_OR_RETURN(value.data,
                         ir::ConstantData::copy_of(p.value.data(), p.value.size() * sizeof(float)));
  }
  return out;
}

}  // namespace qrt::train
