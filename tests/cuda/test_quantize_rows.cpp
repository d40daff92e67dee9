// The GPU per-row int8 quantization against ir::quantize_symmetric (per row, 8 bits): codes and
// scales must match bit for bit, for f32 and f16 inputs, with and without a column mask. Argument
// checks run everywhere; the numerics skip without a GPU.
#include <doctest/doctest.h>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <type_traits>
#include <vector>

#include "cuda/device_buffer.h"
#include "cuda/quantize_rows.cuh"
#include "ir/quantize.h"
#include "tests/cuda/cuda_test_support.h"
#include "tests/support/gpu_guard.h"
#include "tests/support/random.h"

namespace {

using qrt::Status;
using qrt::StatusCode;
using namespace qrt::testing;  // the CUDA test helpers (cuda_test_support.h)

// The CPU definition: ir::quantize_symmetric per row, on x with masked columns set to 0.
struct Expected {
  std::vector<int8_t> codes;
  std::vector<float> scales;
};
Expected cpu_quantize_rows(std::vector<float> x, int64_t rows, int64_t cols,
                           const std::vector<int32_t>& zero_columns) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      if (!zero_columns.empty() && zero_columns[static_cast<std::size_t>(c)] != 0)
        x[static_cast<std::size_t>(r * cols + c)] = 0.0f;
  qrt::ir::QuantizeSpec spec;
  spec.bits = 8;
  spec.granularity = qrt::ir::Granularity::kPerRow;
  auto q = qrt::ir::quantize_symmetric({x, {rows, cols}}, spec);
  REQUIRE_MESSAGE(q.is_ok(), q.status().to_string());
  Expected e;
  e.scales = q->params.scales;
  auto codes = qrt::ir::to_int8(*q);
  REQUIRE(codes.is_ok());
  e.codes = std::move(codes).value();
  return e;
}

// Runs the GPU kernel (f32 or f16 input) with poisoned outputs and checks bit equality.
template <typename T>
void check_rows(const std::vector<float>& x_float, int64_t rows, int64_t cols,
                const std::vector<int32_t>& zero_columns) {
  std::vector<T> x(x_float.size());
  std::vector<float> x_seen(x_float.size());  // what the kernel sees, widened to f32
  for (std::size_t i = 0; i < x.size(); ++i) {
    if constexpr (std::is_same_v<T, float>) {
      x[i] = x_float[i];
      x_seen[i] = x_float[i];
    } else {
      x[i] = __float2half_rn(x_float[i]);
      x_seen[i] = __half2float(x[i]);
    }
  }
  const Expected expected = cpu_quantize_rows(x_seen, rows, cols, zero_columns);

  const auto n = static_cast<std::size_t>(rows * cols);
  qrt::cuda::DeviceBuffer device_x = upload(x);
  qrt::cuda::DeviceBuffer device_q =
      upload(std::vector<int8_t>(n, int8_t{-128}));  // poison: never a code
  auto device_scales = upload(std::vector<float>(static_cast<std::size_t>(rows), std::nanf("")));
  qrt::cuda::DeviceBuffer device_mask;
  const int32_t* mask = nullptr;
  if (!zero_columns.empty()) {
    device_mask = upload(zero_columns);
    mask = device_mask.as<const int32_t>();
  }
  const Status status =
      qrt::cuda::launch_quantize_rows(device_x.as<const T>(), rows, cols, device_q.as<int8_t>(),
                                      device_scales.as<float>(), mask, nullptr);
  REQUIRE_MESSAGE(status.is_ok(), status.to_string());
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  const auto q = download<int8_t>(device_q, n);
  const auto scales = download<float>(device_scales, static_cast<std::size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const auto ri = static_cast<std::size_t>(r);
    INFO("row ", r);
    REQUIRE(std::memcmp(&scales[ri], &expected.scales[ri], sizeof(float)) == 0);
  }
  int64_t mismatches = 0;
  int64_t first = -1;
  for (std::size_t i = 0; i < n; ++i) {
    if (q[i] != expected.codes[i]) {
      if (first < 0) first = static_cast<int64_t>(i);
      ++mismatches;
    }
  }
  if (first >= 0) {
    INFO("first mismatch at ", first, ": x = ", x_seen[static_cast<std::size_t>(first)], ", got ",
         int(q[static_cast<std::size_t>(first)]), ", expected ",
         int(expected.codes[static_cast<std::size_t>(first)]));
    CHECK(mismatches == 0);
  }
}

TEST_CASE("launch_quantize_rows rejects bad arguments before touching the device") {
  float x[4] = {};
  int8_t q[4] = {};
  float s[1] = {};
  Status status = qrt::cuda::launch_quantize_rows(x, -1, 4, q, s, nullptr, nullptr);
  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK(contains(status.message(), "rows is negative"));
  status = qrt::cuda::launch_quantize_rows(x, 1, 0, q, s, nullptr, nullptr);
  CHECK(contains(status.message(), "cols must be > 0"));
  status = qrt::cuda::launch_quantize_rows(static_cast<const float*>(nullptr), 1, 4, q, s, nullptr,
                                           nullptr);
  CHECK(contains(status.message(), "x is null"));
  status = qrt::cuda::launch_quantize_rows(x, 1, 4, nullptr, s, nullptr, nullptr);
  CHECK(contains(status.message(), "q is null"));
  status = qrt::cuda::launch_quantize_rows(x, 1, 4, q, nullptr, nullptr, nullptr);
  CHECK(contains(status.message(), "scales is null"));
  CHECK(qrt::cuda::launch_quantize_rows(x, 0, 4, q, s, nullptr, nullptr).is_ok());  // empty
}

TEST_CASE("per-row quantization matches ir::quantize_symmetric bit for bit (f32 and f16)") {
  QRT_REQUIRE_GPU();
  const struct { int64_t rows, cols; } shapes[] = {{1, 1}, {3, 7}, {5, 256}, {2, 4099}, {37, 1024}};
  for (std::size_t s = 0; s < std::size(shapes); ++s) {
    const uint64_t seed = 9100 + s;
    const int64_t rows = shapes[s].rows;
    const int64_t cols = shapes[s].cols;
    if (sanitizer_quick_mode() && rows * cols > kQuickModeMaxWork / 64) continue;
    INFO("rows = ", rows, ", cols = ", cols, ", seed = ", seed);
    std::vector<float> x =
        qrt::testing::random_normal(static_cast<std::size_t>(rows * cols), seed, 3.0f);
    if (rows >= 3) {
      // Row 1 all zero (scale 1, codes 0); row 2 with absmax 127 so that s = 1 exactly and the
      // half-way values below test round-half-to-even (2.5 -> 2, -3.5 -> -4, 0.5 -> 0).
      for (int64_t c = 0; c < cols; ++c) x[static_cast<std::size_t>(cols + c)] = 0.0f;
      const float ties[] = {127.0f, 2.5f, -3.5f, 0.5f, -0.5f, 126.5f, -1.5f};
      for (int64_t c = 0; c < cols; ++c)
        x[static_cast<std::size_t>(2 * cols + c)] = ties[c % static_cast<int64_t>(std::size(ties))];
    }
    CHECK(qrt::testing::max_abs(x) > 0.0f);
    {
      INFO("f32 input");
      check_rows<float>(x, rows, cols, {});
    }
    {
      INFO("f16 input");
      check_rows<__half>(x, rows, cols, {});
    }
  }
}

TEST_CASE("masked columns are left out of the absmax and quantize to 0") {
  QRT_REQUIRE_GPU();
  const uint64_t seed = 9200;
  const int64_t rows = 13;
  const int64_t cols = 521;  // prime
  INFO("seed = ", seed);
  std::vector<float> x =
      qrt::testing::random_normal(static_cast<std::size_t>(rows * cols), seed, 1.0f);
  std::vector<int32_t> mask(static_cast<std::size_t>(cols), 0);
  for (int64_t c = 0; c < cols; c += 37) {
    mask[static_cast<std::size_t>(c)] = 1;
    for (int64_t r = 0; r < rows; ++r)
      x[static_cast<std::size_t>(r * cols + c)] = 40.0f;  // outlier
  }
  check_rows<float>(x, rows, cols, mask);
  check_rows<__half>(x, rows, cols, mask);
}

}  // namespace
