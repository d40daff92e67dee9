// f32 -> f16 rounding of activations for the kernels whose math takes f16 inputs (the weight-only
// GEMV, cuBLAS's f16 GEMM): y[i] = __float2half_rn(x[i]), round to nearest even as PyTorch's
// .half() and ir::round_to_f16. Plain C++ header.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cstdint>

#include "ir/status.h"

namespace qrt::cuda::kernels {

// x: device f32 [n]; y: device f16 [n]; enqueued on `stream`. n == 0 does nothing.
Status launch_round_to_half(const float* x, int64_t n, __half* y, int multiprocessors,
                            cudaStream_t stream);

}  // namespace qrt::cuda::kernels
