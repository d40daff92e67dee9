#include "train/initialize.h"

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <variant>

namespace qrt::train {

namespace {

// How one parameter is initialised: uniform in ±bound, or the constant `fill`.
struct InitRule {
  bool uniform = true;
  float bound = 0.0f;
  float fill = 0.0f;
};

// Uniform in [0, 1) with 24 random bits (a float's mantissa).
float unit_float(std::mt19937_64& rng) {
  return static_cast<float>(rng() >> 40) * 0x1.0p-24f;
}

std::map<std::string, InitRule> init_rules(const ir::Graph& graph) {
  std::map<std::string, InitRule> rules;
  const auto name_of = [&](ir::ValueId v) {
    return graph.values[static_cast<std::size_t>(v)].name;
  };
  for (const ir::Node& node : graph.nodes) {
    if (node.op == ir::OpKind::kLinear && node.inputs.size() >= 2 &&
        node.inputs[1] != ir::kNoValue) {
      const ir::Shape& w = graph.values[static_cast<std::size_t>(node.inputs[1])].shape;
      if (w.size() != 2 || w[1] <= 0) continue;
      const float bound = 1.0f / std::sqrt(static_cast<float>(w[1]));
      for (std::size_t i = 1; i < node.inputs.size(); ++i)
        if (node.inputs[i] != ir::kNoValue) rules[name_of(node.inputs[i])] = {true, bound, 0.0f};
    } else if (node.op == ir::OpKind::kLSTM) {
      const auto* attrs = std::get_if<ir::LstmAttrs>(&node.attrs);
      if (attrs == nullptr || attrs->hidden_size <= 0) continue;
      const float bound = 1.0f / std::sqrt(static_cast<float>(attrs->hidden_size));
      for (std::size_t i = 3; i < node.inputs.size(); ++i)
        if (node.inputs[i] != ir::kNoValue) rules[name_of(node.inputs[i])] = {true, bound, 0.0f};
    } else if (node.op == ir::OpKind::kLayerNorm) {
      if (node.inputs.size() > 1 && node.inputs[1] != ir::kNoValue)
        rules[name_of(node.inputs[1])] = {false, 0.0f, 1.0f};
      if (node.inputs.size() > 2 && node.inputs[2] != ir::kNoValue)
        rules[name_of(node.inputs[2])] = {false, 0.0f, 0.0f};
    }
  }
  return rules;
}

}  // namespace

Status initialize_parameters(const ir::Graph& graph, std::span<Parameter> parameters,
                             uint64_t seed) {
  const std::map<std::string, InitRule> rules = init_rules(graph);
  for (const Parameter& p : parameters)
    if (rules.find(p.name) == rules.end())
      return invalid_argument("cannot initialise parameter '" + p.name +
                              "': it is not a weight of a Linear, LSTM or LayerNorm node");
  std::mt19937_64 rng(seed);
  for (Parameter& p : parameters) {
    const InitRule& rule = rules.at(p.name);
    for (float& v : p.value)
      v = rule.uniform ? (2.0f * unit_float(rng) - 1.0f) * rule.bound : rule.fill;
  }
  return Status::ok();
}

}  // namespace qrt::train
