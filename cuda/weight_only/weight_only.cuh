// Weight-only quantized GEMV / small-M GEMM on the GPU: y = x·Ŵᵀ + b with f16 activations x
// [M, K] (M <= kMaxRows), f32 accumulation, and weights that stay quantized in device memory and
// are dequantized in registers:
//   W8A16  Ŵ[n, k] = s[n]·q[n, k]            (int8 symmetric per output channel; the CPU
//                                             reference is ops/quantized/linear_w8a16.cpp)
//   NF4    Ŵ[n, k] = codebook[c[n, k]]·absmax[b]   with b = (n·K + k) / block_size, absmax
//          decoded from double quantization as absmax_codes[b]·group_scales[b / group_size] +
//          absmax_offset (ir/quantize.h, QLoRA), or given directly (ir/quant_formats.h codebook
//          and packing: element 2j in the high nibble of byte j)
// The product is accumulated in f32 (one partial sum per 16 or 32 consecutive k, scaled by the
// per-block absmax for NF4 and by s[n] at the end for W8A16), then the f32 bias is added and the
// result is stored as f32 or rounded to f16.
//
// Plain C++ header: host code compiled by the C++ compiler includes it.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cstdint>

#include "ir/status.h"

namespace qrt::cuda::weight_only {

inline constexpr int64_t kMaxRows = 16;  // largest M these kernels take (GEMV and small-M GEMM)

enum class WeightOnlyOutput : int { kF32, kF16 };

struct Int8Weights {
  const int8_t* codes = nullptr;  // [N, K] row-major, 16-byte aligned
  const float* scales = nullptr;  // [N]
};

struct Nf4Weights {
  const uint8_t* packed = nullptr;  // N·K/2 bytes, 16-byte aligned
  int64_t block_size = 64;          // power of two in 32..4096 dividing K
  // Exactly one of the two absmax forms:
  const float* absmax = nullptr;         // [N·K / block_size], or null when double-quantized
  const int8_t* absmax_codes = nullptr;  // [N·K / block_size]
  const float* group_scales = nullptr;   // [ceil(blocks / group_size)]
  float absmax_offset = 0.0f;
  int64_t group_size = 256;
};

// Shape checks shared by the launchers (no device needed): 1 <= M <= kMaxRows (M == 0 is an
// empty problem), N >= 0, K > 0 with K % 16 == 0 (16-byte loads of int8 rows and of x) for W8A16,
// and the block size valid and dividing K for NF4. Messages name the dimension and the fix.
Status can_implement_w8a16(int64_t m, int64_t n, int64_t k);
Status can_implement_nf4(int64_t m, int64_t n, int64_t k, int64_t block_size);

// y [M, N] = x [M, K]·Ŵᵀ + bias (bias [N] f32 or null). x 16-byte aligned, y aligned to its
// element. Every pointer is device memory; enqueued on `stream`.
Status launch_w8a16_gemm(const __half* x, int64_t m, int64_t n, int64_t k, const Int8Weights& w,
                         const float* bias, WeightOnlyOutput output, void* y, cudaStream_t stream);
Status launch_nf4_gemm(const __half* x, int64_t m, int64_t n, int64_t k, const Nf4Weights& w,
                       const float* bias, WeightOnlyOutput output, void* y, cudaStream_t stream);

}  // namespace qrt::cuda::weight_only
