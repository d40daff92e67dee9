// "No GPU -> skip" for CUDA tests.
//
// Put QRT_REQUIRE_GPU() first in a GPU test case: without a usable CUDA device it reports
//   MESSAGE: SKIPPED: no CUDA device (<reason>)
// under the test case's name and returns, so the case passes without running its checks. The check
// happens when the case runs, not at registration (doctest::skip() is a decorator fixed before
// main, too early to ask the CUDA runtime anything). Header-only: only test executables that link
// qrt_cuda include it.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "cuda/device.h"

namespace qrt::testing {

// Empty when CUDA device 0 is usable; otherwise why not, e.g. "cudaErrorInsufficientDriver: CUDA
// driver version is insufficient for CUDA runtime version".
inline std::string gpu_unavailable_reason() {
  const Result<cuda::DeviceInfo> info = cuda::query_device(0);
  if (info.is_ok()) return {};
  std::string_view reason = info.status().message();
  constexpr std::string_view kPrefix = "no CUDA device: ";  // query_device's own wording
  if (reason.substr(0, kPrefix.size()) == kPrefix) reason.remove_prefix(kPrefix.size());
  return std::string(reason);
}

}  // namespace qrt::testing

#define QRT_REQUIRE_GPU()                                                         \
  do {                                                                            \
    const std::string qrt_gpu_reason_ = ::qrt::testing::gpu_unavailable_reason(); \
    if (!qrt_gpu_reason_.empty()) {                                               \
      MESSAGE("SKIPPED: no CUDA device (" << qrt_gpu_reason_ << ")");             \
      return;                                                                     \
    }                                                                             \
  } while (0)
