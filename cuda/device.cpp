#include "cuda/device.h"

#include <cuda_runtime_api.h>

#include <cstdio>

#include "cuda/cuda_status.h"

namespace qrt::cuda {

namespace {

// "no CUDA device: <runtime's reason>". Without a driver, cudaGetDeviceCount reports
// cudaErrorInsufficientDriver or cudaErrorNoDevice; neither is a bug, so no call site is attached.
Status no_device(const std::string& reason) {
  return device_error("no CUDA device: " + reason);
}

std::string format_bytes(std::size_t bytes, double unit, const char* suffix) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1f %s", static_cast<double>(bytes) / unit, suffix);
  return buffer;
}

}  // namespace

std::string DeviceInfo::summary() const {
  return name + " (sm_" + std::to_string(compute_major) + std::to_string(compute_minor) + ", " +
         std::to_string(multiprocessor_count) + " SMs, " +
         format_bytes(global_memory_bytes, 1024.0 * 1024.0 * 1024.0, "GiB") + ", L2 " +
         format_bytes(l2_cache_bytes, 1024.0 * 1024.0, "MiB") + ")";
}

Result<DeviceInfo> query_device(int ordinal) {
  if (ordinal < 0) {
    return invalid_argument("CUDA device ordinal " + std::to_string(ordinal) + " is negative");
  }
  int count = 0;
  const cudaError_t count_error = cudaGetDeviceCount(&count);
  if (count_error != cudaSuccess) {
    (void)cudaGetLastError();  // reported here; do not leave it for the next launch check
    return no_device(std::string(cudaGetErrorName(count_error)) + ": " +
                     cudaGetErrorString(count_error));
  }
  if (count == 0) return no_device("the CUDA runtime found 0 devices");
  if (ordinal >= count) {
    return invalid_argument("CUDA device ordinal " + std::to_string(ordinal) +
                            " is out of range: " + std::to_string(count) + " device(s) present");
  }

  // cudaGetDeviceProperties reads the properties of `ordinal` without making it current.
  cudaDeviceProp props{};
  QRT_CUDA_RETURN_IF_ERROR(cudaGetDeviceProperties(&props, ordinal));
  DeviceInfo info;
  info.ordinal = ordinal;
  info.name = props.name;
  info.compute_major = props.major;
  info.compute_minor = props.minor;
  info.multiprocessor_count = props.multiProcessorCount;
  info.global_memory_bytes = props.totalGlobalMem;
  info.l2_cache_bytes = static_cast<std::size_t>(props.l2CacheSize);
  info.shared_memory_per_block_bytes = props.sharedMemPerBlock;
  info.shared_memory_per_block_optin_bytes = props.sharedMemPerBlockOptin;
  info.shared_memory_per_multiprocessor_bytes = props.sharedMemPerMultiprocessor;
  info.warp_size = props.warpSize;
  return info;
}

Result<DeviceInfo> query_current_device() {
  int ordinal = 0;
  const cudaError_t error = cudaGetDevice(&ordinal);
  if (error != cudaSuccess) {
    (void)cudaGetLastError();
    return no_device(std::string(cudaGetErrorName(error)) + ": " + cudaGetErrorString(error));
  }
  return query_device(ordinal);
}

bool device_available() {
  return query_device(0).is_ok();
}

}  // namespace qrt::cuda
