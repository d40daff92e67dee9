// An owning device allocation (cudaMalloc / cudaFree), move-only.
//
// Holds what a kernel uploads at prepare (weights repacked into its layout, scales, biases) and
// test data. Activations and workspaces live in the session's planned device arena instead.
#pragma once

#include <cstddef>

#include "ir/status.h"

namespace qrt::cuda {

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  // cudaMalloc(bytes); fails with kOutOfMemory when the device is full, kDeviceError without a
  // device. bytes == 0 gives an empty buffer (data() == nullptr) without touching the device.
  static Result<DeviceBuffer> allocate(std::size_t bytes);

  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  // cudaFree. A failure there (only possible after a sticky device error, which every later CUDA
  // call reports again) cannot be returned from a destructor and is dropped.
  ~DeviceBuffer();

  void* data() const { return data_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(data_);
  }
  std::size_t bytes() const { return bytes_; }

 private:
  DeviceBuffer(void* data, std::size_t bytes) : data_(data), bytes_(bytes) {}
  void release();

  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace qrt::cuda
