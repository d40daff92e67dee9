// Graph-to-graph quantization passes: pure functions, the input graph is never modified, the result
// passes ir::verify. Weights of layers left in fp32 are shared with the input graph (no copy).
// Layers the policy keeps go to policy.keep_precision (fp16 weights by default).
// A converted weight keeps its name and value id (new dtype, bytes and QuantParams), so float and
// quantized models pair weights by name; a weight tied between layers of different encodings, or
// still needed as f32, gets extra values named `<weight>.<dtype>` (ir/passes/weight_rewrite.h).
#pragma once

#include "ir/calibration_table.h"
#include "ir/graph.h"
#include "ir/passes/precision_policy.h"

namespace qrt::ir::passes {

// FP16 / BF16 weights (`target` kFP16 or kBF16) for every weighted layer; layers the policy keeps
// go to policy.keep_precision as in every pass.
Result<Graph> downcast(const Graph& graph, Precision target, const PrecisionPolicy& policy = {});

// W8A16: int8 per-output-channel weights, float activations.
Result<Graph> quantize_weights(const Graph& graph, const PrecisionPolicy& policy = {});

struct DynamicOptions {
  PrecisionPolicy policy;
  float outlier_threshold = 6.0f;  // LLM.int8(): |x| >= threshold columns in float; 0 disables
};
// Dynamic int8 for Linear and LSTM: int8 per-channel weights, activations quantized per row at run
// time.
Result<Graph> quantize_dynamic(const Graph& graph, const DynamicOptions& options = {});

struct StaticOptions {
  PrecisionPolicy policy;
  bool symmetric = true;  // false: affine activations with a zero point (uint8 range)
};
// Static int8 for Linear and LSTM: per-tensor activation scales from `table` (every quantized
// node's input must have a range, else an error naming the value).
Result<Graph> quantize_static(const Graph& graph, const CalibrationTable& table,
                              const StaticOptions& options = {});

struct Nf4Options {
  PrecisionPolicy policy;
  int64_t block_size = 64;  // power of two, 32..4096, must divide every quantized row
  bool double_quant = true;
};
// NF4 weights (W4A16) for Linear and LSTM.
Result<Graph> quantize_nf4(const Graph& graph, const Nf4Options& options = {});

}  // namespace qrt::ir::passes
