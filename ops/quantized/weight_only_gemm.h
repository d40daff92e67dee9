// Float-activation products over weights stored as f16, bf16 or per-channel int8 (the fp16 / bf16
// and w8a16 projections), converting each weight vector in registers instead of decoding a row
// into memory on every call: f16 with vcvtph2ps, bf16 by a 16-bit shift (bf16 is the top half of
// a float), int8 by sign extension, conversion and the row's scale (Ŵ = s_w·q, the same float
// product the reference forms). Products accumulate in f32 over K (vector lanes, then a
// horizontal sum: a different summation order than the reference loop, a few ulps·K apart).
#pragma once

#include <cstddef>
#include <cstdint>

namespace qrt::ops::quantized {

enum class WeightCode { kF16, kBF16, kInt8, kF32 };  // kF32: plain f32 weights (ops/gemm_f32)
enum class OutputRounding { kNone, kF16, kBF16 };    // y rounded through the half type (fp16/bf16)

struct WeightOnlyGemm {
  const float* x = nullptr;  // [rows, K], row stride ldx
  int64_t ldx = 0;
  int64_t rows = 0;
  const void* w = nullptr;  // [N, K] codes, row-major
  WeightCode code = WeightCode::kF16;
  const float* scales = nullptr;  // int8: one per output channel
  int64_t N = 0, K = 0;
  const float* bias = nullptr;  // [N] or null
  float* y = nullptr;           // [rows, N], row stride ldy
  int64_t ldy = 0;
  OutputRounding rounding = OutputRounding::kNone;
};

// True when this CPU runs the vector kernel (AVX-512 F/BW/VL; f16 conversion is part of F).
bool weight_only_gemm_available();
// y[m, n] = rounding(Σ_k x[m, k]·Ŵ[n, k] + bias[n]). Only call when available. Splits N over up
// to `threads` threads when the product is large enough.
void weight_only_gemm(const WeightOnlyGemm& g, std::size_t threads);

}  // namespace qrt::ops::quantized
