// Calibration on forecasting windows: the chosen windows are evenly spaced over the series and
// batched as asked, the ranges cover what the graph computes on them, and bad specs are rejected.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "ops/register.h"
#include "tests/train/trainer_models.h"
#include "train/calibration_windows.h"

namespace qrt::train {
namespace {

// Row r, channel c holds r + c / 10, so a copied window names its first row.
WindowedSeries position_series(int64_t rows, int64_t lookback, int64_t horizon) {
  std::vector<float> v(static_cast<std::size_t>(rows) * kEttChannels);
  for (int64_t r = 0; r < rows; ++r)
    for (int c = 0; c < kEttChannels; ++c)
      v[static_cast<std::size_t>(r * kEttChannels + c)] = static_cast<float>(r) + c / 10.0f;
  auto series = WindowedSeries::from_normalized_rows(std::move(v), lookback, horizon);
  REQUIRE(series.is_ok());
  return std::move(series).value();
}

TEST_CASE("calibration windows are evenly spaced over the series and batched") {
  const WindowedSeries series = position_series(107, 6, 2);  // 100 windows
  auto tensors = calibration_inputs(series, {10, 4});
  REQUIRE(tensors.is_ok());
  REQUIRE(tensors->size() == 3u);  // 4 + 4 + 2
  std::vector<float> firsts;
  for (const runtime::Tensor& t : *tensors) {
    CHECK(t.shape()[1] == 6);
    CHECK(t.shape()[2] == kEttChannels);
    const auto data = t.span<const float>();
    const std::size_t window = 6 * kEttChannels;
    for (std::size_t w = 0; w < data.size() / window; ++w) {
      CHECK(std::memcmp(&data[w * window], series.input(static_cast<int64_t>(data[w * window])),
                        window * sizeof(float)) == 0);
      firsts.push_back(data[w * window]);
    }
  }
  CHECK(firsts == std::vector<float>{0, 10, 20, 30, 40, 50, 60, 70, 80, 90});

  // More windows asked than the series has: every window once.
  auto all = calibration_inputs(series, {1000, 64});
  REQUIRE(all.is_ok());
  REQUIRE(all->size() == 2u);
  CHECK(all->at(0).shape()[0] + all->at(1).shape()[0] == series.window_count());

  for (CalibrationWindows bad : {CalibrationWindows{0, 4}, CalibrationWindows{4, 0}}) {
    auto rejected = calibration_inputs(series, bad);
    REQUIRE_FALSE(rejected.is_ok());
    CHECK(rejected.status().message().find("calibration") != std::string::npos);
  }
}

TEST_CASE("calibrate_on_windows observes the graph's input and activations on those windows") {
  constexpr int64_t kLookback = 12, kHorizon = 4;
  const WindowedSeries series = position_series(80, kLookback, kHorizon);
  auto graph = testing::forecasting_mlp(kLookback, kHorizon, 16, 7);
  REQUIRE(graph.is_ok());
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  auto table = calibrate_on_windows(*graph, registry, series, {8, 3});
  REQUIRE_MESSAGE(table.is_ok(), table.status().to_string());
  // 65 windows, stride 8: the last chosen window starts at row 56 and ends at 56 + 11 + 0.6.
  const auto range = table->ranges.find("x");
  REQUIRE(range != table->ranges.end());
  CHECK(range->second.min == 0.0f);
  CHECK(range->second.max == doctest::Approx(67.6f));
  CHECK(table->ranges.count("act") == 1);
}

}  // namespace
}  // namespace qrt::train
