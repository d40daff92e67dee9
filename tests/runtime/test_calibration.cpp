// calibrate(): ranges recorded for every float activation of a small graph built with GraphBuilder
// and run on the CPU kernels, checked against a direct double computation; each method on data with
// one large outlier; the moving average across batches; and the errors (options, empty batch list,
// a failing batch, NaN/infinity naming the value and the batch).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "frontends/builder.h"
#include "ops/register.h"
#include "runtime/calibration.h"
#include "runtime/progress_bar.h"
#include "tests/runtime/reference_linear.h"
#include "tests/support/random.h"

using namespace qrt;
using runtime::CalibrationMethod;
using runtime::CalibrationOptions;
using runtime::NamedTensor;

namespace {

// f32 kernels against a double reference on O(1) values with sums of at most 7 terms: a few float
// ulps; 1e-5 absolute leaves room for another summation order without hiding a wrong formula.
constexpr float kRangeTolerance = 1e-5f;

// The MSE clip is checked against a continuous model (uniform rounding error s²/12, no binning);
// the search runs on 2048 bins of width 100/2048 with bin centres, so allow 10%.
constexpr double kMseModelTolerance = 0.1;

constexpr int64_t kIn = 5, kHidden = 7, kOut = 3;

struct Mlp {
  std::vector<float> w1, b1, w2, b2;
  std::shared_ptr<const ir::Graph> graph;
};

// y = fc2(relu(fc1(x))): observed values x, fc1, relu, y (fc2's output renamed).
Mlp make_mlp(uint64_t seed) {
  Mlp m;
  m.w1 = testing::random_floats(kHidden * kIn, seed);
  m.b1 = testing::random_floats(kHidden, seed + 1);
  m.w2 = testing::random_floats(kOut * kHidden, seed + 2);
  m.b2 = testing::random_floats(kOut, seed + 3);
  frontends::GraphBuilder b;
  const auto x = b.input("x", {ir::kDynamicDim, kIn});
  const auto h = b.linear("fc1", x, b.constant("fc1.weight", {kHidden, kIn}, m.w1),
                          b.constant("fc1.bias", {kHidden}, m.b1));
  const auto r = b.unary("relu", ir::OpKind::kRelu, h);
  const auto y = b.linear("fc2", r, b.constant("fc2.weight", {kOut, kHidden}, m.w2),
                          b.constant("fc2.bias", {kOut}, m.b2));
  b.output(y, "y");
  auto g = b.build();
  REQUIRE_MESSAGE(g.is_ok(), g.status().to_string());
  m.graph = std::make_shared<const ir::Graph>(std::move(g).value());
  return m;
}

// Every activation of the MLP for one batch, in double, by name.
std::map<std::string, std::vector<double>> mlp_reference(const Mlp& m,
                                                         const std::vector<float>& x) {
  std::map<std::string, std::vector<double>> v;
  v["x"] = std::vector<double>(x.begin(), x.end());
  v["fc1"] = testing::reference_linear(v["x"], m.w1, m.b1, kIn, kHidden);
  v["relu"] = v["fc1"];
  for (double& e : v["relu"]) e = std::max(e, 0.0);
  v["y"] = testing::reference_linear(v["relu"], m.w2, m.b2, kHidden, kOut);
  return v;
}

runtime::KernelRegistry cpu_registry() {
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  return registry;
}

NamedTensor named(const std::string& name, const std::vector<float>& data, ir::Shape shape) {
  return {name, runtime::ConstTensorView{ir::DType::kF32, std::move(shape), data.data()}};
}

CalibrationOptions quiet(CalibrationMethod method) {
  CalibrationOptions o;
  o.method = method;
  o.progress = false;
  return o;
}

// x -> relu: a single activation to calibrate, plus its ReLU.
std::shared_ptr<const ir::Graph> relu_graph() {
  frontends::GraphBuilder b;
  const auto x = b.input("x", {ir::kDynamicDim});
  b.output(b.unary("relu", ir::OpKind::kRelu, x));
  auto g = b.build();
  REQUIRE_MESSAGE(g.is_ok(), g.status().to_string());
  return std::make_shared<const ir::Graph>(std::move(g).value());
}

}  // namespace

TEST_CASE("calibration method names round-trip") {
  for (auto m :
       {CalibrationMethod::kMinMax, CalibrationMethod::kMovingAverage,
        CalibrationMethod::kPercentile, CalibrationMethod::kMse, CalibrationMethod::kEntropy}) {
    const auto parsed = runtime::calibration_method_from_name(runtime::calibration_method_name(m));
    REQUIRE(parsed.has_value());
    CHECK(*parsed == m);
  }
  CHECK(runtime::calibration_method_from_name("ema").value() == CalibrationMethod::kMovingAverage);
  CHECK_FALSE(runtime::calibration_method_from_name("kl").has_value());
  CHECK_FALSE(runtime::calibration_method_from_name("").has_value());
}

TEST_CASE("minmax and ema: a range for every activation, equal to a direct computation") {
  const uint64_t seed = 4242;
  MESSAGE("seed " << seed);
  const Mlp m = make_mlp(seed);
  const runtime::KernelRegistry registry = cpu_registry();
  const std::vector<int64_t> rows{1, 3, 7};  // dynamic batch, 1 and primes
  std::vector<std::vector<float>> xs;
  std::vector<std::vector<NamedTensor>> batches;
  for (std::size_t i = 0; i < rows.size(); ++i)
    xs.push_back(testing::random_floats(static_cast<std::size_t>(rows[i] * kIn), seed + 10 + i,
                                        -2.0f, 2.0f));
  for (std::size_t i = 0; i < rows.size(); ++i)
    batches.push_back({named("x", xs[i], {rows[i], kIn})});

  // Expected: min/max over all batches, and the EMA of per-batch min/max (momentum 0.75).
  const float momentum = 0.75f;
  std::map<std::string, ir::TensorRange> minmax, ema;
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (const auto& [name, values] : mlp_reference(m, xs[i])) {
      const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
      if (i == 0) {
        minmax[name] = ema[name] = {static_cast<float>(*lo), static_cast<float>(*hi)};
        continue;
      }
      minmax[name] = {std::min(minmax[name].min, static_cast<float>(*lo)),
                      std::max(minmax[name].max, static_cast<float>(*hi))};
      ema[name] = {static_cast<float>(momentum * ema[name].min + (1 - momentum) * *lo),
                   static_cast<float>(momentum * ema[name].max + (1 - momentum) * *hi)};
    }

  auto table = runtime::calibrate(m.graph, registry, batches, quiet(CalibrationMethod::kMinMax));
  REQUIRE_MESSAGE(table.is_ok(), table.status().to_string());
  CHECK(table->method == "minmax");
  REQUIRE(table->ranges.size() == 4);  // x, fc1, relu, y; no weights
  for (const auto& [name, expected] : minmax) {
    INFO("value " << name);
    REQUIRE(table->ranges.count(name) == 1);
    CHECK(std::fabs(table->ranges[name].min - expected.min) <= kRangeTolerance);
    CHECK(std::fabs(table->ranges[name].max - expected.max) <= kRangeTolerance);
    CHECK(expected.max - expected.min > 0.5f);  // spread data: the comparison means something
  }
  CHECK(table->ranges["relu"].min == 0.0f);

  CalibrationOptions options = quiet(CalibrationMethod::kMovingAverage);
  options.ema_momentum = momentum;
  auto ema_table = runtime::calibrate(m.graph, registry, batches, options);
  REQUIRE_MESSAGE(ema_table.is_ok(), ema_table.status().to_string());
  CHECK(ema_table->method == "ema");
  REQUIRE(ema_table->ranges.size() == 4);
  for (const auto& [name, expected] : ema) {
    INFO("value " << name);
    CHECK(std::fabs(ema_table->ranges[name].min - expected.min) <= kRangeTolerance);
    CHECK(std::fabs(ema_table->ranges[name].max - expected.max) <= kRangeTolerance);
  }
  // The moving average lies inside the overall range and differs from it here.
  CHECK(ema_table->ranges["x"].max < table->ranges["x"].max);
}

TEST_CASE("one large outlier: minmax and ema keep it, percentile / mse / entropy clip it") {
  const uint64_t seed = 777;
  MESSAGE("seed " << seed);
  const auto graph = relu_graph();
  const runtime::KernelRegistry registry = cpu_registry();
  // Three batches of uniform [-1, 1); batch 1 holds a single 100 (one in 600 000 values).
  constexpr std::size_t kBatch = 200003;
  std::vector<std::vector<float>> xs;
  for (uint64_t i = 0; i < 3; ++i) xs.push_back(testing::random_floats(kBatch, seed + i));
  xs[1][12345] = 100.0f;
  std::vector<std::vector<NamedTensor>> batches;
  for (const auto& x : xs) batches.push_back({named("x", x, {static_cast<int64_t>(kBatch)})});
  std::size_t positives = 0;
  for (const auto& x : xs)
    positives += std::count_if(x.begin(), x.end(), [](float v) { return v > 0.0f && v < 100.0f; });
  const auto mse_optimum = [](std::size_t n) {
    return 2.0 * 100.0 / (static_cast<double>(n) / (6.0 * 127.0 * 127.0) + 2.0);
  };

  for (auto method : {CalibrationMethod::kMinMax, CalibrationMethod::kPercentile,
                      CalibrationMethod::kMse, CalibrationMethod::kEntropy}) {
    CalibrationOptions options = quiet(method);
    options.percentile = 99.9;
    auto table = runtime::calibrate(graph, registry, batches, options);
    REQUIRE_MESSAGE(table.is_ok(), table.status().to_string());
    const ir::TensorRange x = table->ranges.at("x"), relu = table->ranges.at("relu");
    INFO(table->method << ": x [" << x.min << ", " << x.max << "], relu [" << relu.min << ", "
                       << relu.max << "]");
    MESSAGE(table->method << ": x [" << x.min << ", " << x.max << "]");
    CHECK(x.min >= -1.0f);
    CHECK(x.min < -0.99f);    // the bulk's own minimum is kept: far below -T only when clipped
    CHECK(relu.min == 0.0f);  // one-sided stays one-sided
    if (method == CalibrationMethod::kMinMax) {
      CHECK(x.max == 100.0f);
      CHECK(relu.max == 100.0f);
    } else if (method == CalibrationMethod::kPercentile) {
      // 99.9% of |x| lies below 0.999; the answer is at most one bin (100/2048) above.
      CHECK(x.max >= 0.99f);
      CHECK(x.max <= 0.999f + 100.0f / 2048.0f);
    } else if (method == CalibrationMethod::kMse) {
      // Clip c: the outlier costs (100 - c)², each of the n bulk values a rounding error of about
      // s²/12 with s = c/127 (uniform rounding). d/dc = 0 gives c* = 2·100 / (n / (6·127²) + 2):
      // a compromise, far below 100. For relu, n counts the positive values (zeros are exact).
      CHECK(x.max == doctest::Approx(mse_optimum(3 * kBatch)).epsilon(kMseModelTolerance));
      CHECK(relu.max == doctest::Approx(mse_optimum(positives)).epsilon(kMseModelTolerance));
      CHECK(x.max < 50.0f);
    } else {
      // Entropy: the smallest candidate is 128 of 2048 bins (6.25); between 128 and 256 bins each
      // level is one bin, the bulk is reproduced exactly and only the folded outlier costs, so the
      // divergences tie up to rounding. Past 256 bins merging blurs the bulk.
      CHECK(x.max >= 100.0f * 128 / 2048);
      CHECK(x.max < 100.0f * 256 / 2048);
      CHECK(relu.max >= 100.0f * 128 / 2048);
      CHECK(relu.max < 100.0f * 256 / 2048);
    }
  }
}

TEST_CASE("calibrate: clear errors") {
  const auto graph = relu_graph();
  const runtime::KernelRegistry registry = cpu_registry();
  const std::vector<float> ok = testing::random_floats(11, 9);
  const std::vector<std::vector<NamedTensor>> one{{named("x", ok, {11})}};

  SUBCASE("null graph") {
    auto r = runtime::calibrate(nullptr, registry, one, quiet(CalibrationMethod::kMinMax));
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
  }
  SUBCASE("no batches") {
    auto r = runtime::calibrate(graph, registry, {}, quiet(CalibrationMethod::kMinMax));
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message().find("no calibration batches") != std::string::npos);
  }
  SUBCASE("bad options") {
    CalibrationOptions o = quiet(CalibrationMethod::kMovingAverage);
    o.ema_momentum = 1.0f;
    CHECK(runtime::calibrate(graph, registry, one, o).status().message().find("ema_momentum") !=
          std::string::npos);
    o = quiet(CalibrationMethod::kPercentile);
    o.percentile = 0.0;
    CHECK(runtime::calibrate(graph, registry, one, o).status().message().find("percentile") !=
          std::string::npos);
    o = quiet(CalibrationMethod::kMse);
    o.histogram_bins = 0;
    CHECK(runtime::calibrate(graph, registry, one, o).status().message().find("histogram_bins") !=
          std::string::npos);
    o = quiet(CalibrationMethod::kEntropy);
    o.histogram_bins = 64;
    CHECK(runtime::calibrate(graph, registry, one, o).status().code() ==
          StatusCode::kInvalidArgument);
  }
  SUBCASE("a batch that fails to run names the batch") {
    const std::vector<std::vector<NamedTensor>> batches{{named("x", ok, {11})},
                                                        {named("not_x", ok, {11})}};
    auto r = runtime::calibrate(graph, registry, batches, quiet(CalibrationMethod::kMinMax));
    REQUIRE_FALSE(r.is_ok());
    MESSAGE(r.status().to_string());
    CHECK(r.status().message().find("calibration batch 1") != std::string::npos);
  }
  SUBCASE("NaN in an input names the value and the batch") {
    std::vector<float> bad = ok;
    bad[4] = std::numeric_limits<float>::quiet_NaN();
    const std::vector<std::vector<NamedTensor>> batches{
        {named("x", ok, {11})}, {named("x", ok, {11})}, {named("x", bad, {11})}};
    for (auto method : {CalibrationMethod::kMinMax, CalibrationMethod::kEntropy}) {
      auto r = runtime::calibrate(graph, registry, batches, quiet(method));
      REQUIRE_FALSE(r.is_ok());
      MESSAGE(r.status().to_string());
      CHECK(r.status().code() == StatusCode::kInvalidArgument);
      CHECK(r.status().message().find(
                "calibration batch 2: observing value 'x': NaN at element 4") != std::string::npos);
    }
  }
  SUBCASE("infinity produced inside the graph names the node output") {
    frontends::GraphBuilder b;
    const auto x = b.input("x", {ir::kDynamicDim});
    b.output(b.binary("square", ir::OpKind::kMul, x, x));
    auto g = b.build();
    REQUIRE(g.is_ok());
    const std::vector<float> huge{1.0f, 3e30f, -2.0f};  // 3e30² overflows float
    const std::vector<std::vector<NamedTensor>> batches{{named("x", huge, {3})}};
    auto r = runtime::calibrate(std::make_shared<const ir::Graph>(std::move(g).value()), registry,
                                batches, quiet(CalibrationMethod::kMinMax));
    REQUIRE_FALSE(r.is_ok());
    MESSAGE(r.status().to_string());
    CHECK(r.status().message().find(
              "calibration batch 0: observing value 'square': infinity at element 1") !=
          std::string::npos);
  }
}

TEST_CASE("an all-zero activation gets the range [0, 0] from every method") {
  const auto graph = relu_graph();
  const runtime::KernelRegistry registry = cpu_registry();
  const std::vector<float> negative = testing::random_floats(17, 21, -2.0f, -0.5f);
  const std::vector<std::vector<NamedTensor>> batches{{named("x", negative, {17})}};
  for (auto method :
       {CalibrationMethod::kMinMax, CalibrationMethod::kMovingAverage,
        CalibrationMethod::kPercentile, CalibrationMethod::kMse, CalibrationMethod::kEntropy}) {
    auto table = runtime::calibrate(graph, registry, batches, quiet(method));
    REQUIRE_MESSAGE(table.is_ok(), table.status().to_string());
    INFO(table->method);
    CHECK(table->ranges.at("relu").min == 0.0f);
    CHECK(table->ranges.at("relu").max == 0.0f);
    CHECK(table->ranges.at("x").max < -0.4f);  // x itself is all negative, never zero
  }
}

TEST_CASE("the progress bar stays silent when stderr is not a terminal or it is disabled") {
  runtime::ProgressBar off(false, "calibrating", 10);
  CHECK_FALSE(off.visible());
  off.advance();
  // Under ctest stderr is a pipe or a file; on a terminal the bar is drawn (and that is fine).
  runtime::ProgressBar on(true, "calibrating", 0);  // nothing to count: never shown
  CHECK_FALSE(on.visible());
}
