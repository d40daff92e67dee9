// LLM.int8() outlier decomposition (Dettmers et al. 2022, "LLM.int8(): 8-bit Matrix
// Multiplication for Transformers at Scale", section 3.2) on top of the fused int8 GEMM.
//
// With x float [M, K] activations, int8 weights w [N, K] with per-row scales s_w [N] (the
// per-channel form every int8 weight path stores), and the outlier columns
//   O = { k : |x[m, k]| > threshold for some m },
// the product is split into
//   y = epilogue( Σ_{k ∉ O} q_x[m, k]·w[n, k] · s_x[m]·s_w[n]   (int8 tensor cores; x quantized
//                                                                per row with O zeroed)
//               + Σ_{k ∈ O} x[m, k]·w[n, k]·s_w[n] )             (float, added through the
//                                                                epilogue's addend)
// so the few large activation columns keep full precision while the rest runs in int8.
//
// This is the correct path, not yet the fast one: the outlier part is a plain CUDA-core kernel
// that writes an f32 [M, N] addend (one extra pass over the output) even when O is empty.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "cuda/gemm_int8/epilogue.h"
#include "ir/status.h"

namespace qrt::cuda::gemm_int8 {

// Device workspace bytes launch_gemm_int8_outliers needs (column flags and list, quantized x, row
// scales, the f32 addend), 256-byte aligned pieces.
std::size_t outlier_workspace_size(int64_t m, int64_t n, int64_t k);

// `epilogue` describes what follows the dequantization: output kind (f32/f16/s8), bias,
// activation, output_scale. Its row_scales, column_scales and addend must be null: this function
// supplies them (the row scales of x, `w_scales`, the outlier part). x [M, K], w [N, K] (16-byte
// aligned), w_scales [N], y [M, N] and workspace are device memory; K as in can_implement.
// threshold >= 0 (LLM.int8() uses 6.0); +inf gives no outlier columns. `config` as in
// launch_gemm_int8. Enqueued on `stream`.
Status launch_gemm_int8_outliers(const float* x, const int8_t* w, const float* w_scales, int64_t m,
                                 int64_t n, int64_t k, float threshold,
                                 const EpilogueSpec& epilogue, void* y, int config, void* workspace,
                                 std::size_t workspace_bytes, cudaStream_t stream);
Status launch_gemm_int8_outliers(const __half* x, const int8_t* w, const float* w_scales, int64_t m,
                                 int64_t n, int64_t k, float threshold,
                                 const EpilogueSpec& epilogue, void* y, int config, void* workspace,
                                 std::size_t workspace_bytes, cudaStream_t stream);

}  // namespace qrt::cuda::gemm_int8
