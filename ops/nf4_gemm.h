// NF4 weight-only matrix product: y[m, n] = Σ_k x[m, k] · dequant(W)[n, k] (+ bias), dequantizing
// in registers (never materializing W in float). One entry point picks AVX-512 / AVX2 / portable at
// run time; all agree with the reference within float summation-order error.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qrt::ops {

// packed: W [N, K] as NF4 codes (ir/quant_formats.h packing), absmax: one float per block of
// `block_size` along K (already decoded from double quantization), bias may be null.
void nf4_gemm_f32(const float* x, std::size_t m, const uint8_t* packed, const float* absmax,
                  std::size_t n, std::size_t k, std::size_t block_size, const float* bias,
                  float* y);
void nf4_gemm_f32_reference(const float* x, std::size_t m, const uint8_t* packed,
                            const float* absmax, std::size_t n, std::size_t k,
                            std::size_t block_size, const float* bias, float* y);
const char* nf4_gemm_implementation();

}  // namespace qrt::ops
