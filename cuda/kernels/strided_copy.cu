#include "cuda/kernels/strided_copy.cuh"

#include "cuda/cuda_status.h"
#include "cuda/kernels/kernel_support.h"

namespace qrt::cuda::kernels {

namespace {

__global__ void __launch_bounds__(kElementwiseThreads)
    strided_copy_kernel(const float* x, StridedIndex index, int64_t n, float* y) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    y[i] = x[strided_offset(i, index)];
}

}  // namespace

Status launch_strided_copy(const float* x, const StridedIndex& index, int64_t n, float* y,
                           int multiprocessors, cudaStream_t stream) {
  if (n <= 0) return Status::ok();
  strided_copy_kernel<<<elementwise_blocks(n, multiprocessors), kElementwiseThreads, 0, stream>>>(
      x, index, n, y);
  QRT_CUDA_RETURN_IF_ERROR(cudaGetLastError());
  return Status::ok();
}

}  // namespace qrt::cuda::kernels
