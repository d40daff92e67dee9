// The graph forms each precision gives its tensors (ir/precision.h), as predicates the kernel
// registries of every backend (ops/, cuda/) use in their `supports` checks, plus the fixed
// activation quantization int8-static reads from a calibrated value. One definition, so the CPU and
// CUDA backends always agree on what a quantized node looks like.
#pragma once

#include <cstdint>
#include <optional>

#include "ir/graph.h"
#include "ir/precision.h"
#include "ir/status.h"

namespace qrt::ir {

// The node's precision, when its PrecisionRecord names a known one.
std::optional<Precision> node_precision(const Node& node);

// The value `id` of `graph`, or null for kNoValue / out of range.
const Value* value_of(const Graph& graph, ValueId id);

// True when `v` is a plain f32 tensor without quantization parameters.
bool is_plain_f32(const Value& v);

// The f32 data the float kernels read: plain f32, or a non-constant f32 value annotated with
// per-tensor calibration parameters (an annotation for an int8-static consumer, which quantizes
// it; the bytes stay float). Per-channel activations, parameters on an f32 constant and non-f32
// storage are not f32 data.
bool is_f32_data(const Graph& graph, ValueId id);
// Every present input and every output of `node` is f32 data.
bool all_f32_data(const Graph& graph, const Node& node);

// True when the weight value has the graph form `precision` gives weights: f16 / bf16 without
// parameters, i8 symmetric per output channel (axis 0), or nf4 with nf4-block parameters; always
// rank 2 and constant.
bool weight_has_form(Precision precision, const Value& weight);

// True when an optional bias has the form the precision's kernels read: f32 (fp16/bf16 also take
// a bias stored in their own half type).
bool bias_has_form(Precision precision, const Value* bias);

// True when a Linear/LSTM data input has the precision's form: int8-static needs per-tensor
// calibrated parameters (symmetric or affine) on an f32 value, every other precision a plain f32.
bool activation_has_form(Precision precision, const Value& x);

// How int8-static quantizes an activation: q = clamp(round(x / scale) + zero_point, qmin, qmax)
// (docs/quantization.md §1). Symmetric: zero_point 0, [-127, 127]; affine: the uint8 range
// [0, 255] the static pass produces. The defaults are the fixed grid of a hidden state in (-1, 1).
struct FixedActivationQuant {
  float scale = 1.0f / 127.0f;
  int32_t zero_point = 0;
  int32_t qmin = -127;
  int32_t qmax = 127;
};

// The quantization int8-static applies to `x` (an input of `node`) from its calibrated per-tensor
// parameters; fails naming the node and value when they are missing or out of range.
Result<FixedActivationQuant> fixed_activation_quant(const Node& node, const Value& x);

}  // namespace qrt::ir
