#include "cuda/kernels/round_to_half.cuh"

#include "cuda/cuda_status.h"
#include "cuda/kernels/kernel_support.h"

namespace qrt::cuda::kernels {

namespace {

__global__ void __launch_bounds__(kElementwiseThreads)
    round_to_half_kernel(const float* x, int64_t n, __half* y) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    y[i] = __float2half_rn(x[i]);
}

}  // namespace

Status launch_round_to_half(const float* x, int64_t n, __half* y, int multiprocessors,
                            cudaStream_t stream) {
  if (n <= 0) return Status::ok();
  round_to_half_kernel<<<elementwise_blocks(n, multiprocessors), kElementwiseThreads, 0, stream>>>(
      x, n, y);
  QRT_CUDA_RETURN_IF_ERROR(cudaGetLastError());
  return Status::ok();
}

}  // namespace qrt::cuda::kernels
