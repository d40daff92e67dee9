// Internal to ir/passes: the "rewrite weighted nodes" step every precision pass shares. A pass asks
// the policy (decide_precisions), re-encodes the weights of each weighted node for its decided
// precision, records the decision, then adds what is specific to it (outlier threshold, activation
// quantization parameters) and checks the result with finish_pass.
//
// Naming: a converted weight keeps its name and value id, with the new dtype, bytes and
// QuantParams (so float and quantized models pair weights by name). When one weight feeds layers
// that need different encodings (tied weights), the first encoding takes the original's place and
// each other one is a new value `<weight>.<dtype>` ("fc.weight.i8"); when some user still needs it
// as f32 (an fp32 layer, a non-weight input, a graph output), the original stays as it was.
// Weights not converted (fp32) are shared with the input graph, never copied.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/passes/precision_policy.h"

namespace qrt::ir::passes {

// Input positions of the weight matrices of a weighted node: Linear {1}; LSTM, per layer l,
// w_ih at 3 + 4l and w_hh at 4 + 4l (biases are not weights here: they stay f32).
std::vector<size_t> weight_slots(const Node& node);

// Empty when every weight of `node` is an f32 constant the passes can re-encode; otherwise why not,
// naming the weight (a graph input, or a weight already f16 / i8 / nf4).
std::string unconvertible_weight_reason(const Graph& graph, const Node& node);

struct WeightEncodingOptions {
  int64_t nf4_block_size = 64;
  bool nf4_double_quant = true;
};

// A copy of `graph` (verified first) where every weighted node runs as
// decide_precisions(graph, target, policy) decides: weights re-encoded, PrecisionRecord set.
// Fails on an invalid graph, a keep_precision that is not fp32/fp16/bf16/w8a16, or a weight that
// cannot be encoded (the message names the node and the weight).
Result<Graph> rewrite_weighted_nodes(const Graph& graph, Precision target,
                                     const PrecisionPolicy& policy,
                                     const WeightEncodingOptions& options = {});

// ir::verify on a pass result; a failure is a bug in the pass, reported with its name.
Result<Graph> finish_pass(Graph graph, const char* pass_name);

// `graph` with only the values where keep[id] is true (keep has one entry per value); ids are
// renumbered in order, names kept. No node, graph input or graph output may refer to a dropped
// value.
Graph keep_values(Graph graph, const std::vector<bool>& keep);

}  // namespace qrt::ir::passes
