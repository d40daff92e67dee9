// Device detection and CUDA error mapping: must behave on machines with and without a GPU.
#include <doctest/doctest.h>

#include <cuda_runtime_api.h>

#include <string>
#include <vector>

#include "cuda/cuda_status.h"
#include "cuda/device.h"
#include "cuda/device_buffer.h"
#include "tests/cuda/cuda_test_support.h"
#include "tests/support/gpu_guard.h"

namespace {

using qrt::Status;
using qrt::StatusCode;
using namespace qrt::testing;  // the CUDA test helpers (cuda_test_support.h)

TEST_CASE("query_device returns a described device or a clean 'no CUDA device' status") {
  const qrt::Result<qrt::cuda::DeviceInfo> info = qrt::cuda::query_device(0);
  CHECK(qrt::cuda::device_available() == info.is_ok());
  if (info.is_ok()) {
    MESSAGE("device 0: " << info->summary());
    CHECK(info->ordinal == 0);
    CHECK_FALSE(info->name.empty());
    CHECK(info->compute_major >= 1);
    CHECK(info->multiprocessor_count > 0);
    CHECK(info->global_memory_bytes > 0);
    CHECK(info->l2_cache_bytes > 0);
    CHECK(info->warp_size == 32);
    CHECK(info->shared_memory_per_block_bytes > 0);
    CHECK(info->shared_memory_per_block_optin_bytes >= info->shared_memory_per_block_bytes);
    CHECK(info->shared_memory_per_multiprocessor_bytes >=
          info->shared_memory_per_block_optin_bytes);
  } else {
    MESSAGE("no device: " << info.status().to_string());
    CHECK(info.status().code() == StatusCode::kDeviceError);
    const std::string& message = info.status().message();
    CHECK(message.rfind("no CUDA device: ", 0) == 0);
    CHECK(message.size() > std::string("no CUDA device: ").size());  // a reason follows
    CHECK_FALSE(qrt::testing::gpu_unavailable_reason().empty());
  }
}

TEST_CASE("query_device rejects ordinals that name no device") {
  const auto negative = qrt::cuda::query_device(-1);
  REQUIRE_FALSE(negative.is_ok());
  CHECK(negative.status().code() == StatusCode::kInvalidArgument);
  CHECK(contains(negative.status().message(), "-1"));

  const auto far = qrt::cuda::query_device(4099);
  REQUIRE_FALSE(far.is_ok());
  if (qrt::cuda::device_available()) {
    CHECK(far.status().code() == StatusCode::kInvalidArgument);
    CHECK(contains(far.status().message(), "4099"));
    CHECK(contains(far.status().message(), "out of range"));
  } else {
    CHECK(far.status().code() == StatusCode::kDeviceError);
  }
}

TEST_CASE("cuda_status maps CUDA errors to status codes with the call site and CUDA's text") {
  CHECK(qrt::cuda::cuda_status(cudaSuccess, "cudaFree(p)", "a.cu", 1).is_ok());

  const Status oom =
      qrt::cuda::cuda_status(cudaErrorMemoryAllocation, "cudaMalloc(&p, n)", "cuda/x.cu", 42);
  CHECK(oom.code() == StatusCode::kOutOfMemory);
  CHECK(contains(oom.message(), "cuda/x.cu:42"));
  CHECK(contains(oom.message(), "cudaMalloc(&p, n)"));
  CHECK(contains(oom.message(), "cudaErrorMemoryAllocation"));
  CHECK(contains(oom.message(), cudaGetErrorString(cudaErrorMemoryAllocation)));

  for (const cudaError_t error : {cudaErrorInvalidValue, cudaErrorNoDevice, cudaErrorLaunchFailure,
                                  cudaErrorIllegalAddress, cudaErrorInsufficientDriver}) {
    const Status status = qrt::cuda::cuda_status(error, "expr()", "f.cu", 7);
    CAPTURE(status.message());
    CHECK(status.code() == StatusCode::kDeviceError);
    CHECK(contains(status.message(), "f.cu:7: expr()"));
    CHECK(contains(status.message(), cudaGetErrorName(error)));
    CHECK(contains(status.message(), cudaGetErrorString(error)));
  }
}

// Stand-ins for CUDA calls: return `error` and count evaluations.
cudaError_t fake_cuda_call(cudaError_t error, int& calls) {
  ++calls;
  return error;
}

Status guarded_call(cudaError_t error, int& calls, bool& continued) {
  QRT_CUDA_RETURN_IF_ERROR(fake_cuda_call(error, calls));
  continued = true;
  return Status::ok();
}

qrt::Result<int> guarded_result(cudaError_t error, int& calls) {
  QRT_CUDA_RETURN_IF_ERROR(fake_cuda_call(error, calls));
  return 5;
}

TEST_CASE("QRT_CUDA_RETURN_IF_ERROR returns the failing expression's Status, once evaluated") {
  int calls = 0;
  bool continued = false;
  CHECK(guarded_call(cudaSuccess, calls, continued).is_ok());
  CHECK(calls == 1);
  CHECK(continued);

  calls = 0;
  continued = false;
  const Status failed = guarded_call(cudaErrorInvalidValue, calls, continued);
  CHECK(calls == 1);
  CHECK_FALSE(continued);
  CHECK(failed.code() == StatusCode::kDeviceError);
  CHECK(contains(failed.message(), "fake_cuda_call(error, calls)"));
  CHECK(contains(failed.message(), "test_device.cpp:"));

  calls = 0;
  const qrt::Result<int> ok = guarded_result(cudaSuccess, calls);
  REQUIRE(ok.is_ok());
  CHECK(*ok == 5);
  const qrt::Result<int> oom = guarded_result(cudaErrorMemoryAllocation, calls);
  REQUIRE_FALSE(oom.is_ok());
  CHECK(oom.status().code() == StatusCode::kOutOfMemory);
}

TEST_CASE("DeviceBuffer: empty without touching the device, clean failure without one") {
  const auto empty = qrt::cuda::DeviceBuffer::allocate(0);
  REQUIRE(empty.is_ok());
  CHECK(empty->data() == nullptr);
  CHECK(empty->bytes() == 0);

  const auto small = qrt::cuda::DeviceBuffer::allocate(64);
  if (qrt::cuda::device_available()) {
    REQUIRE(small.is_ok());
    CHECK(small->data() != nullptr);
    CHECK(small->bytes() == 64);
  } else {
    REQUIRE_FALSE(small.is_ok());
    MESSAGE("allocation without a device: " << small.status().to_string());
    CHECK(small.status().code() == StatusCode::kDeviceError);
    CHECK(contains(small.status().message(), "cudaMalloc(64 bytes)"));
  }
}

TEST_CASE("DeviceBuffer round-trips bytes and reports an impossible allocation as out of memory") {
  QRT_REQUIRE_GPU();
  constexpr std::size_t kCount = 4099;  // prime: no accidental alignment to a chunk size
  std::vector<int> host(kCount);
  for (std::size_t i = 0; i < kCount; ++i) host[i] = static_cast<int>(i * 2654435761u);
  auto buffer = qrt::cuda::DeviceBuffer::allocate(kCount * sizeof(int));
  REQUIRE(buffer.is_ok());
  REQUIRE(cudaMemcpy(buffer->data(), host.data(), kCount * sizeof(int), cudaMemcpyHostToDevice) ==
          cudaSuccess);
  std::vector<int> back(kCount, -1);
  REQUIRE(cudaMemcpy(back.data(), buffer->data(), kCount * sizeof(int), cudaMemcpyDeviceToHost) ==
          cudaSuccess);
  CHECK(back == host);

  qrt::cuda::DeviceBuffer moved = std::move(buffer).value();
  CHECK(moved.bytes() == kCount * sizeof(int));

  // 2^50 bytes (1 PiB) exceeds any GPU's memory.
  const auto huge = qrt::cuda::DeviceBuffer::allocate(std::size_t{1} << 50);
  REQUIRE_FALSE(huge.is_ok());
  CHECK(huge.status().code() == StatusCode::kOutOfMemory);
  CHECK(contains(huge.status().message(), "cudaMalloc(1125899906842624 bytes)"));
  // The failure was reported, not left behind to be blamed on the next call.
  CHECK(cudaGetLastError() == cudaSuccess);
}

}  // namespace
