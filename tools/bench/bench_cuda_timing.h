// The timing method shared by the GPU benchmark tables (bench_cuda_gemm.cpp, bench_cuda_lstm.cpp),
// performance.md's device-work method: CUDA events around each launch on one stream, `warmup`
// untimed runs first, then the median of `timed` runs (the median, not the mean, so that one
// preempted run does not move the number).
#pragma once

#include <cuda_runtime_api.h>

#include <algorithm>
#include <vector>

#include "cuda/cuda_status.h"
#include "cuda/device_buffer.h"
#include "ir/status.h"

namespace qrt::bench {

struct TimingRuns {
  int warmup = 10;
  int timed = 30;
};

// Median milliseconds of `launch(i)`, which enqueues one run on `stream` and returns a Status; `i`
// counts the runs (warm-up and timed each from 0), for callers that rotate weight sets.
template <typename Launch>
Result<double> median_ms(cudaStream_t stream, TimingRuns runs, Launch launch) {
  for (int i = 0; i < runs.warmup; ++i) QRT_RETURN_IF_ERROR(launch(i));
  QRT_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));
  cudaEvent_t start = nullptr;
  cudaEvent_t stop = nullptr;
  QRT_CUDA_RETURN_IF_ERROR(cudaEventCreate(&start));
  const cudaError_t created = cudaEventCreate(&stop);
  if (created != cudaSuccess) {
    cudaEventDestroy(start);
    return cuda::cuda_status(created, "cudaEventCreate", __FILE__, __LINE__);
  }
  std::vector<double> times;
  Status status = Status::ok();
  for (int i = 0; i < runs.timed && status.is_ok(); ++i) {
    cudaEventRecord(start, stream);
    status = launch(i);
    cudaEventRecord(stop, stream);
    const cudaError_t synced = cudaEventSynchronize(stop);
    if (synced != cudaSuccess) {
      status = cuda::cuda_status(synced, "cudaEventSynchronize", __FILE__, __LINE__);
      break;
    }
    float ms = 0.0f;
    cudaEventElapsedTime(&ms, start, stop);
    times.push_back(ms);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  QRT_RETURN_IF_ERROR(status);
  if (times.empty()) return invalid_argument("median_ms: no timed runs");
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

// A device copy of `host`.
template <typename T>
Result<cuda::DeviceBuffer> to_device(const std::vector<T>& host) {
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer buffer,
                       cuda::DeviceBuffer::allocate(host.size() * sizeof(T)));
  QRT_CUDA_RETURN_IF_ERROR(
      cudaMemcpy(buffer.data(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  return buffer;
}

}  // namespace qrt::bench
