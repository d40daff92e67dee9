// Precision policy (design notes, section 7): which weighted layers a pass converts, and why.
#include "ir/passes/precision_policy.h"

#include <string>

#include "ir/passes/weight_rewrite.h"

namespace qrt::ir::passes {

namespace {

// Why a layer is kept, when it is; empty when the policy lets `target` apply.
// Precedence: first/last layer, then nodes kept by name, then name patterns, then the Linear
// in_features limit.
struct KeepReason {
  Precision precision = Precision::kFP32;
  std::string reason;
};

std::string kept(Precision p, const std::string& why) {
  return std::string("kept ") + precision_name(p) + ": " + why;
}

// Linear weight [N, K]: K is the number of input features.
int64_t linear_in_features(const Graph& graph, const Node& node) {
  if (node.inputs.size() < 2 || node.inputs[1] == kNoValue) return -1;
  const Shape& w = graph.values[static_cast<size_t>(node.inputs[1])].shape;
  return w.size() == 2 ? w[1] : -1;
}

}  // namespace

bool is_weighted(const Node& node) {
  return node.op == OpKind::kLinear || node.op == OpKind::kLSTM;
}

// Classic two-pointer glob match: on a mismatch, let the last '*' absorb one more character.
bool matches_pattern(const std::string& name, const std::string& pattern) {
  size_t n = 0, p = 0;
  size_t star = std::string::npos, star_n = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_n = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string::npos) {
      p = star + 1;
      n = ++star_n;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::vector<LayerDecision> decide_precisions(const Graph& graph, Precision target,
                                             const PrecisionPolicy& policy) {
  std::vector<int> weighted;
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    if (is_weighted(graph.nodes[i])) weighted.push_back(static_cast<int>(i));

  const bool converting = target != Precision::kFP32;
  std::vector<LayerDecision> decisions;
  decisions.reserve(weighted.size());
  for (size_t w = 0; w < weighted.size(); ++w) {
    const Node& node = graph.nodes[static_cast<size_t>(weighted[w])];
    LayerDecision d{weighted[w], target, ""};

    // A weight that is not an f32 constant (a graph input, or already converted) cannot be
    // re-encoded: the node keeps the precision it has.
    if (const std::string why = unconvertible_weight_reason(graph, node); !why.empty()) {
      d.precision = precision_from_name(node.precision.precision).value_or(Precision::kFP32);
      d.reason = "unchanged: " + why;
      decisions.push_back(std::move(d));
      continue;
    }

    const bool first = w == 0 && policy.keep_first;
    const bool last = w + 1 == weighted.size() && policy.keep_last;
    std::string keep_why;
    if (first && last) {
      keep_why = "first and last weighted layer";
    } else if (first) {
      keep_why = "first weighted layer";
    } else if (last) {
      keep_why = "last weighted layer";
    } else if (const auto named = policy.keep_nodes.find(node.name);
               named != policy.keep_nodes.end()) {
      keep_why = named->second;
    } else {
      for (const std::string& pattern : policy.keep_patterns)
        if (matches_pattern(node.name, pattern)) {
          keep_why = "matches pattern '" + pattern + "'";
          break;
        }
    }

    if (!converting) {
      d.reason = "fp32 requested";
    } else if (!keep_why.empty()) {
      d.precision = policy.keep_precision;
      d.reason = kept(policy.keep_precision, keep_why);
    } else if (const int64_t k = linear_in_features(graph, node);
               node.op == OpKind::kLinear && policy.min_in_features > 0 && k >= 0 &&
               k < policy.min_in_features) {
      // Small layers gain nothing from quantization (bitsandbytes-style skip): left in fp32.
      d.precision = Precision::kFP32;
      d.reason = kept(Precision::kFP32, "in_features " + std::to_string(k) + " < min_in_features " +
                                            std::to_string(policy.min_in_features));
    } else {
      const bool downcast = target == Precision::kFP16 || target == Precision::kBF16;
      d.reason = std::string(downcast ? "downcast: " : "quantized: ") + precision_name(target);
    }
    if (const auto note = policy.notes.find(node.name); note != policy.notes.end())
      d.reason += " (" + note->second + ")";
    decisions.push_back(std::move(d));
  }
  return decisions;
}

std::vector<std::string> nodes_with_rows_not_divisible(const Graph& graph, int64_t block) {
  std::vector<std::string> names;
  for (const Node& node : graph.nodes) {
    if (!is_weighted(node)) continue;
    for (ValueId id : node.inputs) {
      if (id == kNoValue) continue;
      const Value& v = graph.values[static_cast<std::size_t>(id)];
      if (v.is_constant() && v.shape.size() == 2 && v.shape[1] % block != 0) {
        names.push_back(node.name);
        break;
      }
    }
  }
  return names;
}

}  // namespace qrt::ir::passes
