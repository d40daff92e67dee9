// y[i] = x[strided_offset(i, index)] for i < n (strided_index.h): the copy behind Transpose and
// Slice. Plain C++ header.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "cuda/kernels/strided_index.h"
#include "ir/status.h"

namespace qrt::cuda::kernels {

// x, y: device f32; n = Π index.dims; enqueued on `stream`. n == 0 does nothing.
Status launch_strided_copy(const float* x, const StridedIndex& index, int64_t n, float* y,
                           int multiprocessors, cudaStream_t stream);

}  // namespace qrt::cuda::kernels
