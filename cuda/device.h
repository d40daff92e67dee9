// What the CUDA device looks like: detection that never aborts, and the properties kernels size
// themselves by (SM count for grids, L2 for benchmark buffer rotation, opt-in shared memory for
// tiles).
#pragma once

#include <cstddef>
#include <string>

#include "ir/status.h"

namespace qrt::cuda {

struct DeviceInfo {
  int ordinal = 0;
  std::string name;       // "NVIDIA H100 80GB HBM3"
  int compute_major = 0;  // compute capability, 9.0 for Hopper
  int compute_minor = 0;
  int multiprocessor_count = 0;                   // SMs: 132 on an H100 SXM
  std::size_t global_memory_bytes = 0;            // total device memory
  std::size_t l2_cache_bytes = 0;                 // 50 MB on an H100
  std::size_t shared_memory_per_block_bytes = 0;  // without opting in: 48 KB
  // Dynamic shared memory a block may use after cudaFuncSetAttribute(
  // cudaFuncAttributeMaxDynamicSharedMemorySize): 227 KB on Hopper.
  std::size_t shared_memory_per_block_optin_bytes = 0;
  std::size_t shared_memory_per_multiprocessor_bytes = 0;
  int warp_size = 0;

  // "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 79.1 GiB, L2 50.0 MiB)"
  std::string summary() const;
};

// Properties of device `ordinal`. Fails with kDeviceError "no CUDA device: <reason>" when there is
// no driver or no device (the reason is the CUDA runtime's), and with kInvalidArgument when
// `ordinal` is negative or past the last device. Never aborts; does not change the calling thread's
// current device.
Result<DeviceInfo> query_device(int ordinal = 0);

// query_device for the calling thread's current device (cudaGetDevice; 0 unless cudaSetDevice chose
// another), with the same "no CUDA device: <reason>" failure when no device is usable.
Result<DeviceInfo> query_current_device();

// Whether device 0 can be queried, i.e. a driver and at least one device are present.
bool device_available();

}  // namespace qrt::cuda
