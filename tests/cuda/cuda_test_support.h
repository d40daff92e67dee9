// Helpers shared by the CUDA backend tests (header-only; only executables that link qrt_cuda
// include it): device buffers filled from host vectors or with a poison byte, canary checks on
// downloaded outputs, the compute-sanitizer quick mode, and the activations in double precision
// as the independent reference for every kernel that applies one.
#pragma once

#include <doctest/doctest.h>

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cuda/activation.cuh"
#include "cuda/device_buffer.h"

namespace qrt::testing {

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Under compute-sanitizer (scripts/gpu-bench.sh sets QRT_CUDA_SANITIZE=1) every access is checked
// and kernels run far slower: only the small shapes run, which still cover every tail path.
inline bool sanitizer_quick_mode() {
  const char* value = std::getenv("QRT_CUDA_SANITIZE");
  return value != nullptr && value[0] != '\0' && value[0] != '0';
}
inline constexpr int64_t kQuickModeMaxWork = int64_t{1} << 22;  // M·N·K

// A device copy of `host` (at least one element is allocated, so that an empty input still has a
// valid, distinct pointer).
template <typename T>
cuda::DeviceBuffer upload(const std::vector<T>& host) {
  auto buffer = cuda::DeviceBuffer::allocate(std::max<std::size_t>(1, host.size()) * sizeof(T));
  REQUIRE_MESSAGE(buffer.is_ok(), buffer.status().to_string());
  if (!host.empty()) {
    REQUIRE(cudaMemcpy(buffer->data(), host.data(), host.size() * sizeof(T),
                       cudaMemcpyHostToDevice) == cudaSuccess);
  }
  return std::move(buffer).value();
}

// A device buffer of `bytes` bytes, each set to `poison`: an output the kernel under test must
// overwrite (the used part) or leave alone (the canary after it).
inline cuda::DeviceBuffer poisoned(std::size_t bytes, unsigned char poison) {
  auto buffer = cuda::DeviceBuffer::allocate(bytes);
  REQUIRE_MESSAGE(buffer.is_ok(), buffer.status().to_string());
  REQUIRE(cudaMemset(buffer->data(), poison, bytes) == cudaSuccess);
  return std::move(buffer).value();
}

inline std::vector<unsigned char> download_bytes(const cuda::DeviceBuffer& buffer) {
  std::vector<unsigned char> host(buffer.bytes());
  REQUIRE(cudaMemcpy(host.data(), buffer.data(), host.size(), cudaMemcpyDeviceToHost) ==
          cudaSuccess);
  return host;
}

// Bytes from `used` on that lost their poison.
inline std::size_t canary_damage(const std::vector<unsigned char>& bytes, std::size_t used,
                                 unsigned char poison) {
  std::size_t damaged = 0;
  for (std::size_t i = used; i < bytes.size(); ++i) damaged += bytes[i] != poison;
  return damaged;
}

// The first `count` elements of a device buffer.
template <typename T>
std::vector<T> download(const cuda::DeviceBuffer& buffer, std::size_t count) {
  REQUIRE(buffer.bytes() >= count * sizeof(T));
  std::vector<T> host(count);
  REQUIRE(cudaMemcpy(host.data(), buffer.data(), count * sizeof(T), cudaMemcpyDeviceToHost) ==
          cudaSuccess);
  return host;
}

// The first `count` elements of a buffer made by poisoned(); checks that the bytes after them (the
// canary) kept `poison`.
template <typename T>
std::vector<T> download_checked(const cuda::DeviceBuffer& buffer, std::size_t count,
                                unsigned char poison) {
  const std::size_t used = count * sizeof(T);
  const std::vector<unsigned char> bytes = download_bytes(buffer);
  REQUIRE(bytes.size() >= used);
  const std::size_t damaged = canary_damage(bytes, used, poison);
  CHECK_MESSAGE(damaged == 0, damaged << " canary bytes past the output were written");
  std::vector<T> host(count);
  if (used > 0) std::memcpy(host.data(), bytes.data(), used);
  return host;
}

// The activations of cuda/activation.cuh in double, written from the PyTorch definitions
// independently of the kernels. NaN propagates through every kind (torch.relu(NaN) is NaN).
inline double activation_reference(cuda::ActivationKind kind, double x, double param) {
  using cuda::ActivationKind;
  const double pi = 3.14159265358979323846;
  switch (kind) {
    case ActivationKind::kRelu:
      return std::isnan(x) ? x : (x > 0 ? x : 0.0);
    case ActivationKind::kLeakyRelu:
      return x > 0 ? x : param * x;
    case ActivationKind::kGeluErf:
      return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case ActivationKind::kGeluTanh:
      return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / pi) * (x + 0.044715 * x * x * x)));
    case ActivationKind::kSilu:
      return x / (1.0 + std::exp(-x));
    case ActivationKind::kSigmoid:
      return 1.0 / (1.0 + std::exp(-x));
    case ActivationKind::kTanh:
      return std::tanh(x);
  }
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace qrt::testing
