// Which weighted layers (Linear, LSTM) a quantization pass converts, and why. Every pass asks the
// policy, then records each decision in the node's PrecisionRecord (precision + reason), which the
// file stores and `qrt inspect` shows.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/precision.h"

namespace qrt::ir::passes {

struct PrecisionPolicy {
  // The first and the last weighted node in topological order are sensitive (the first sees raw
  // inputs, the last writes the result): kept in `keep_precision` unless disabled.
  bool keep_first = true;
  bool keep_last = true;
  Precision keep_precision = Precision::kFP16;
  // Node names matching any pattern ('*' matches any run of characters) are kept.
  std::vector<std::string> keep_patterns;
  // Linear layers with fewer input features are kept (0: no limit).
  int64_t min_in_features = 0;
  // Nodes kept by exact name, each with the reason recorded after "kept <precision>: " (the
  // `auto` policy fills it from the sensitivity search, runtime/sensitivity.h). Checked after
  // first/last and before the patterns.
  std::map<std::string, std::string> keep_nodes;
  // Extra words appended, in parentheses, to the reason of the named nodes' decisions (the `auto`
  // policy notes each quantized layer's measured sensitivity).
  std::map<std::string, std::string> notes;
};

struct LayerDecision {
  int node = -1;  // index into graph.nodes
  Precision precision = Precision::kFP32;
  std::string reason;
};

// One decision per weighted node (Linear, LSTM), in node order, for converting to `target`.
std::vector<LayerDecision> decide_precisions(const Graph& graph, Precision target,
                                             const PrecisionPolicy& policy);

// True for the nodes the policy considers (Linear, LSTM).
bool is_weighted(const Node& node);

// Weighted nodes with a 2-D constant weight whose row length K `block` does not divide (an LSTM's
// input weights with K = 7 channels). quantize_nf4 and the NF4 FakeQuant reject them, so callers
// keep them by exact name (a name without '*' is a pattern matching only itself).
std::vector<std::string> nodes_with_rows_not_divisible(const Graph& graph, int64_t block);

// '*' wildcard match of a whole name.
bool matches_pattern(const std::string& name, const std::string& pattern);

}  // namespace qrt::ir::passes
