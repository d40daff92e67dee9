// Graph-to-graph quantization passes: pure functions, the input graph is never modified, the result
// passes ir::verify. Weights of layers left in fp32 are shared with the input graph (no copy).
// Layers the policy keeps go to policy.keep_precision (fp16 weights by default).
// A converted weight keeps its name and value id (new dtype, bytes and QuantParams), so float and
// quantized models pair weights by name; a weight tied between layers of different encodings, or
// still needed as f32, gets extra values named `<weight>.<dtype>` (ir/passes/weight_rewrite.h).
#pragma once

#include <string>

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
  // Keep int8 codes between consecutive int8-static Linears where the graph allows
  // (keep_int8_between_static_ops below); false: every int8-static node outputs float.
  bool int8_between_ops = true;
};
// Static int8 for Linear and LSTM: per-tensor activation scales from `table` (every quantized
// node's input must have a range, else an error naming the value).
Result<Graph> quantize_static(const Graph& graph, const CalibrationTable& table,
                              const StaticOptions& options = {});

// Static int8 chains (ir/precision.h): for each int8-static Linear whose output is read only as x
// of int8-static Linears, directly or through Relu / Reshape, and whose readers' calibrated
// QuantParams agree, the values from its output to those readers become int8 codes (i8 symmetric,
// u8 affine) with those parameters; the producer's PrecisionRecord reason says so. Any other
// reader (a float op, an LSTM, a graph output) keeps the output float. Idempotent.
Result<Graph> keep_int8_between_static_ops(const Graph& graph);

struct Nf4Options {
  PrecisionPolicy policy;
  int64_t block_size = 64;  // power of two, 32..4096, must divide every quantized row
  bool double_quant = true;
};
// NF4 weights (W4A16) for Linear and LSTM.
Result<Graph> quantize_nf4(const Graph& graph, const Nf4Options& options = {});

// Linear + activation fusion, for deployment graphs: each Linear without a fused activation whose
// output is plain f32 (not int8 codes of a static int8 chain), not a graph output, and read by
// exactly one node, a Relu, Gelu (erf or tanh), Silu, Sigmoid or Tanh, gets that activation in
// LinearAttrs::activation and writes the activation's output value; the activation node and the
// intermediate value are removed (ids renumbered, names kept). Nothing else changes; idempotent.
// Backends apply the activation in the Linear's kernel with the standalone op's arithmetic, so
// the fused graph computes what the input graph computes. Training rejects fused graphs: train
// the unfused one, then fuse.
Result<Graph> fuse_activations(const Graph& graph);
// "fc1+relu, fc2+gelu": the Linears of `graph` that apply a fused activation, in node order;
// empty when none does.
std::string fused_linear_names(const Graph& graph);

// Quantization-aware training (design notes, section 8).
enum class QatMode { kInt8, kNF4 };
struct QatOptions {
  PrecisionPolicy policy;
  QatMode mode = QatMode::kInt8;
  // kInt8: activations symmetric int8 (else affine, uint8 range), as StaticOptions::symmetric.
  bool symmetric = true;
  // FakeQuantAttrs::learnable_scale of every integer FakeQuant inserted (LSQ gradients).
  bool learnable_scales = true;
  int64_t nf4_block_size = 64;  // kNF4, as Nf4Options
  bool nf4_double_quant = true;
};
// The QAT graph of a float graph: FakeQuant nodes where the deployed graph would quantize.
//   kInt8: each weight of every layer quantize_static would make int8-static goes through a
//     per-channel (axis 0) symmetric 8-bit FakeQuant whose scale starts at the per-channel absmax
//     scale; each activation quantize_static would quantize (x of those layers) goes through a
//     per-tensor 8-bit FakeQuant whose scale / zero point start at the parameters quantize_static
//     derives from `table` (a missing range is an error naming the node and the value). Only the
//     int8-static readers of an activation read the fake-quantized value.
//   kNF4: each weight of every layer quantize_nf4 would convert goes through an NF4 FakeQuant
//     (weights only; `table` is not used).
// Not simulated: what the int8-static LSTM kernel rounds inside the op (h_{t-1} and the input of
// layers >= 1, on the grid 1/127), since the graph has no value there to put a FakeQuant on.
// Scales and zero points are new f32 constants the trainer may learn. Every node stays fp32 (the
// graph trains and runs with the float kernels); the precision each weighted layer converts to is
// recorded in metadata "qat.precision.<node>" and its reason in the node's PrecisionRecord, so
// layers the policy keeps stay unfaked and convert to the kept precision.
Result<Graph> insert_fake_quant(const Graph& graph, const CalibrationTable& table,
                                const QatOptions& options = {});

struct ConvertQatOptions {
  bool int8_between_ops = true;  // as StaticOptions::int8_between_ops
};
// The deployable graph of a (trained) QAT graph: the static int8 graph, or the NF4 graph, with the
// learned parameters. FakeQuant nodes are removed; int8 weights are quantized with their
// FakeQuant's own (learned) scales, not recomputed; each fake-quantized activation gets the learned
// scale / zero point as its QuantParams; NF4 weights are quantize_nf4 of the trained weights with
// the FakeQuant's block size and double quantization, which is exactly what the NF4 FakeQuant
// computed. Layers without FakeQuant go to the precision recorded at insertion (fp32 when none).
// Errors name the node: a FakeQuant whose scale is not a constant, a faked layer whose input has no
// FakeQuant, parameters the static int8 kernels cannot represent (not 8 bits, per-channel
// activations, signed affine activations, a mix of symmetric and affine activations).
Result<Graph> convert_qat(const Graph& qat_graph, const ConvertQatOptions& options = {});

}  // namespace qrt::ir::passes
