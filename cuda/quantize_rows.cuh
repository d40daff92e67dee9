// Dynamic per-row symmetric int8 quantization of f32 or f16 activations on the GPU: the input of
// the int8 GEMM (cuda/gemm_int8/) when the producer does not quantize its own output.
//
// For each row r of x [rows, cols] (row-major), exactly ir::quantize_symmetric with
// Granularity::kPerRow and 8 bits (ir/quantize.h), bit for bit:
//   absmax = max_c |x[r, c]|
//   s[r]   = absmax == 0 ? 1 : float(double(absmax) / 127)     (the smallest positive float if
//                                                              that rounds to 0)
//   q[r,c] = clamp(round-half-even(x[r, c] / s[r]), -127, 127)  (IEEE float division)
// An f16 input is widened to f32 first (exact), as the CPU reference does.
//
// Optional column mask (LLM.int8() outlier decomposition): where zero_columns[c] != 0, column c is
// treated as 0 in every row (left out of the absmax, code 0), so the int8 GEMM skips it and the
// caller adds that column's contribution computed in float.
//
// Inputs must be finite: the CPU reference rejects NaN/inf; here a NaN gives an unspecified code
// (never a fault). Plain C++ header.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cstdint>

#include "ir/status.h"

namespace qrt::cuda {

// x: device [rows, cols]; q: device int8 [rows, cols]; scales: device f32 [rows]; zero_columns:
// device int32 [cols] or null. Enqueued on `stream`. rows == 0 does nothing; cols must be > 0.
// Fails with kInvalidArgument naming the argument (null pointers, negative sizes), kDeviceError for
// CUDA failures.
Status launch_quantize_rows(const float* x, int64_t rows, int64_t cols, int8_t* q, float* scales,
                            const int32_t* zero_columns, cudaStream_t stream);
Status launch_quantize_rows(const __half* x, int64_t rows, int64_t cols, int8_t* q, float* scales,
                            const int32_t* zero_columns, cudaStream_t stream);

}  // namespace qrt::cuda
