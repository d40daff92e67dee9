// The float fallback of the projection dispatch (projection.cpp): a weight stored as int8 or NF4
// codes is decoded to f32 once, in prepare, and the product runs as the f32 GEMM on it.
//
// Why: for a short reduction (the LSTM's layer-0 input projection has K = C = 7 input features)
// the quantized kernels can only lose. Dynamic int8 would quantize every row (absmax, divide,
// round over K values) and scale every output (N multiplies) to save K multiply-adds per output,
// and the int8 kernels work on K in groups of 4 / 64 so most lanes would multiply padding; the
// weight-only kernels would decode the same tiny weight on every call.
// Cost: 4·N·K bytes of f32 weights held by the kernel (N = 512, K = 7: 14 KiB), against N·K bytes
// for the int8 codes in the model; the rule only fires for K < kMinQuantizedK, so this stays
// small next to any weight that matters for size.
// Numerics: y = x·Ŵᵀ + b with Ŵ the exact dequantized weight (s_w·q, absmax·codebook) and x not
// quantized: the weight error of the precision is kept, the activation rounding of int8-dynamic /
// int8-static is skipped (so the result is closer to f32 than the reference kernel's).
#pragma once

#include <cstdint>
#include <memory>

#include "ir/precision.h"
#include "ops/quantized/projection.h"

namespace qrt::ops::quantized {

// Reductions shorter than this run from decoded f32 weights.
inline constexpr int64_t kMinQuantizedK = 16;

// True when the dispatch rule sends this spec to the decoded-f32 projection: a w8a16,
// int8-dynamic or NF4 weight with K < kMinQuantizedK (int8-static keeps its own kernel).
bool prefers_decoded_f32(ir::Precision precision, const ProjectionSpec& spec);

// Builds it (the spec is already checked by make_projection).
Result<std::unique_ptr<Projection>> make_decoded_f32_projection(ir::Precision precision,
                                                                const ProjectionSpec& spec);

}  // namespace qrt::ops::quantized
