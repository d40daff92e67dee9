// The fused int8 GEMM's epilogue, described as data (plain C++: host code includes it).
//
// The GEMM computes acc[m, n] = Σ_k a[m, k]·b[n, k] exactly in int32 (a: int8 [M, K] activations,
// b: int8 [N, K] weights, the Linear layout), then, per output element, in float32:
//
//   v = acc·row_scales[m]·column_scales[n]       (dequantize: activation scale × weight scale;
//                                                 a null pointer stands for all ones)
//     + addend[m, n]                             (optional f32 [M, N], row-major; the outlier
//                                                 columns of LLM.int8() or a residual)
//     + bias[n]                                  (optional f32 [N])
//   v = activation(v)                            (optional; formulas of cuda/activation.cuh)
//   y = v                      as f32 (kF32)
//     = round-to-nearest-even  to f16 (kF16)
//     = clamp(round-half-even(v / output_scale), -127, 127) as int8 (kS8: symmetric per-tensor
//                                                 requantization for a following int8 op, the
//                                                 formula of ir/quantize.h)
//   or y = acc unchanged as int32 (kS32: no epilogue at all; used for exactness tests and for
//      callers that finish the computation themselves).
//
// All pointers are device pointers owned by the caller and must stay valid until the GEMM has run
// on its stream.
#pragma once

#include <cstdint>

#include "cuda/activation.cuh"

namespace qrt::cuda::gemm_int8 {

enum class GemmOutput : int {
  kS32,  // raw int32 accumulators
  kF32,
  kF16,
  kS8,  // requantized, per-tensor symmetric (output_scale)
};
const char* gemm_output_name(GemmOutput output);  // "s32", "f32", "f16", "s8"

struct EpilogueSpec {
  GemmOutput output = GemmOutput::kF32;
  const float* row_scales = nullptr;     // [M] per-row activation scales, or null (1)
  const float* column_scales = nullptr;  // [N] per-output-channel weight scales, or null (1)
  const float* bias = nullptr;           // [N] or null
  const float* addend = nullptr;         // [M, N] row-major f32, or null
  bool has_activation = false;
  ActivationKind activation = ActivationKind::kRelu;
  float activation_param = 0.0f;  // LeakyReLU's negative slope
  float output_scale = 1.0f;      // kS8 only: finite and > 0
};

// True when the spec asks for anything beyond the raw accumulators.
inline bool has_float_epilogue(const EpilogueSpec& e) {
  return e.row_scales != nullptr || e.column_scales != nullptr || e.bias != nullptr ||
         e.addend != nullptr || e.has_activation;
}

// Bytes of one output element.
inline int gemm_output_bytes(GemmOutput output) {
  switch (output) {
    case GemmOutput::kS32:
    case GemmOutput::kF32:
      return 4;
    case GemmOutput::kF16:
      return 2;
    case GemmOutput::kS8:
      return 1;
  }
  return 0;
}

}  // namespace qrt::cuda::gemm_int8
