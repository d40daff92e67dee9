// The precisions a node can run in. A node's PrecisionRecord stores the name (the file format keeps
// strings so new precisions need no schema change); verify() accepts only these names.
//
// How each precision is represented in the graph (definitions: docs of each scheme in
// ir/passes/ and the quantization design notes):
//   fp32          f32 weights; the default.
//   fp16, bf16    Linear/LSTM weights stored as f16/bf16; activations stay f32 tensors in the
//   graph,
//                 the kernel rounds its inputs and outputs to the half type and accumulates in f32.
//   w8a16         weights i8, symmetric per output channel (QuantParams kSymmetricPerChannel, axis
//   0);
//                 activations float, weights dequantized in registers.
//   int8-dynamic  weights as w8a16; each activation row quantized at run time (symmetric int8, its
//                 own scale), int32 accumulation; PrecisionRecord::outlier_threshold > 0 adds the
//                 LLM.int8() decomposition.
//   int8-static   weights as w8a16; the node's float input value carries per-tensor activation
//                 QuantParams from calibration (symmetric or affine); LSTM hidden state uses 1/127.
//                 Static int8 chains: where every reader of an int8-static Linear's output is x of
//                 an int8-static Linear, directly or through Relu / Reshape (which commute with
//                 per-tensor quantization: relu(q) = max(q, z)), the values between them are
//                 int8 codes: dtype i8 with symmetric per-tensor QuantParams, or u8 with affine
//                 per-tensor QuantParams (uint8 range), the consumer's calibrated parameters.
//                 The producer requantizes in its epilogue
//                 (q_y = clamp(round((s_x·s_w[n]·acc' + b[n]) / s_y) + z_y, qmin, qmax)) and the
//                 consumer reads the codes without quantizing. verify() accepts int8 activations
//                 only there (never as graph inputs or outputs).
//   nf4           weights nf4 with QuantParams kNF4Block (block absmax, optional double quant).
#pragma once

#include <optional>
#include <string_view>

namespace qrt::ir {

enum class Precision : uint8_t { kFP32, kFP16, kBF16, kW8A16, kInt8Dynamic, kInt8Static, kNF4 };
inline constexpr int kNumPrecisions = 7;

const char* precision_name(Precision p);  // "fp32", "fp16", "bf16", "w8a16", "int8-dynamic", ...
std::optional<Precision> precision_from_name(std::string_view name);

}  // namespace qrt::ir
