// Weight-only products with the weight repacked once (in prepare) so that 16 output columns sit in
// the 16 lanes of one vector: [ceil(N/16)][K][16] codes, zero padded. Each k then costs one
// broadcast of x[m, k] and one converted weight vector per 16 columns, and the 16 sums of a block
// leave the loop already in lanes: no horizontal sum per output, which is what a dot-product
// kernel pays at small K and few rows (an LSTM step at batch 1: K = H = 128, N = 4H = 512).
// Conversion as in weight_only_gemm.h (f16 vcvtph2ps, bf16 shift, int8 Ŵ = s_w·q per element).
// Cost: one more copy of the weight's codes held by the projection (N·K·2 bytes for f16/bf16,
// N·K for int8), next to the model's own copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ops/quantized/weight_only_gemm.h"

namespace qrt::ops::quantized {

struct LanePackedWeights {
  WeightCode code = WeightCode::kF16;
  int64_t N = 0, K = 0;
  std::vector<uint8_t> bytes;  // [ceil(N/16)][K][16] codes of `code`'s size
  std::vector<float> scales;   // int8: s_w per column, padded to a multiple of 16 (zeros)
};

// `w` [N, K] row-major codes of `code` (any WeightCode; kF32 for weights decoded to float);
// `scales` for kInt8 only.
LanePackedWeights pack_weights_by_lanes(const void* w, WeightCode code, int64_t N, int64_t K,
                                        const float* scales);

// y[m, n] = rounding(Σ_k x[m, k]·Ŵ[n, k] + bias[n]) for m < rows (bias may be null). Only call
// when weight_only_gemm_available(). Splits N over up to `threads` threads for large products.
void lane_packed_gemm(const LanePackedWeights& w, const float* x, int64_t ldx, int64_t rows,
                      const float* bias, float* y, int64_t ldy, OutputRounding rounding,
                      std::size_t threads);

// out[i] = round_to_f16(x[i]) or round_to_bf16(x[i]) for i < count, 16 lanes at a time (same
// IEEE rounding as ir/half.h). Only call when weight_only_gemm_available().
void round_to_half(const float* x, int64_t count, float* out, OutputRounding rounding);

}  // namespace qrt::ops::quantized
