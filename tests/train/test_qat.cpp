// Quantization-aware fine-tuning as one step (train/qat.h) on a small forecasting MLP and a
// synthetic series of noisy sines: the loss of the QAT graph falls, the converted graph holds int8
// (or NF4) weights and no FakeQuant, and its outputs equal the trained QAT graph's to within one
// output quantization step.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

#include "ops/register.h"
#include "runtime/session.h"
#include "tests/support/random.h"
#include "tests/train/trainer_models.h"
#include "train/calibration_windows.h"
#include "train/qat.h"

namespace qrt::train {
namespace {

using ir::passes::QatMode;

constexpr int64_t kLookback = 12, kHorizon = 4, kHidden = 64;

WindowedSeries noisy_sines(int64_t rows, uint64_t seed) {
  MESSAGE("series seed " << seed);
  std::vector<float> v = qrt::testing::random_normal(rows * kEttChannels, seed, 0.1f);
  for (int64_t r = 0; r < rows; ++r)
    for (int c = 0; c < kEttChannels; ++c)
      v[static_cast<std::size_t>(r * kEttChannels + c)] +=
          static_cast<float>(std::sin(2.0 * std::numbers::pi * r / (24.0 + 7 * c)));
  auto series = WindowedSeries::from_normalized_rows(std::move(v), kLookback, kHorizon);
  REQUIRE(series.is_ok());
  return std::move(series).value();
}

runtime::KernelRegistry cpu_registry() {
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  return registry;
}

// MSE of `graph` over every window of `series`.
double mse_on(const ir::Graph& graph, const WindowedSeries& series) {
  auto trainer = Trainer::create(graph, cpu_registry());
  REQUIRE_MESSAGE(trainer.is_ok(), trainer.status().to_string());
  auto errors = evaluate_windows(**trainer, series, 64);
  REQUIRE_MESSAGE(errors.is_ok(), errors.status().to_string());
  return errors->mse;
}

// The output of `graph` on 32 windows evenly spaced over `series`.
std::vector<float> forecast(const ir::Graph& graph, const WindowedSeries& series) {
  auto inputs = calibration_inputs(series, {32, 32});
  REQUIRE(inputs.is_ok());
  auto session = runtime::Session::create(std::make_shared<const ir::Graph>(graph), cpu_registry(),
                                          {runtime::Device::kCpu, true});
  REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());
  auto out = (*session)->run({{"x", inputs->front().view()}});
  REQUIRE_MESSAGE(out.is_ok(), out.status().to_string());
  const auto y = (*out)[0].span<const float>();
  return {y.begin(), y.end()};
}

void check_qat(QatMode mode, ir::DType deployed_weights, const char* precision) {
  const WindowedSeries train = noisy_sines(600, 41);
  const WindowedSeries val = noisy_sines(200, 43);
  // The middle Linear (64 x 64) is the layer the default policy quantizes; the first and last
  // stay fp16.
  auto fp32 = testing::forecasting_mlp(kLookback, kHorizon, kHidden, 5, true);
  REQUIRE(fp32.is_ok());
  const runtime::KernelRegistry registry = cpu_registry();

  QatOptions options;
  options.fit.epochs = 2;
  options.fit.batch = 32;
  options.fit.max_steps_per_epoch = 15;
  options.fit.adam.lr = 3e-3f;
  options.calibration = {64, 32};
  auto untrained = make_qat_graph(*fp32, mode, train, registry, options);
  REQUIRE_MESSAGE(untrained.is_ok(), untrained.status().to_string());
  int64_t fake_quants = 0;
  for (const ir::Node& n : untrained->nodes) fake_quants += n.op == ir::OpKind::kFakeQuant;
  CHECK(fake_quants == (mode == QatMode::kInt8 ? 2 : 1));  // fc_mid's weight (and input)

  int64_t epochs_seen = 0;
  auto result = quantization_aware_fine_tune(*fp32, mode, train, &val, registry, options,
                                             [&](const EpochReport&) { ++epochs_seen; });
  REQUIRE_MESSAGE(result.is_ok(), result.status().to_string());
  REQUIRE(result->epochs.size() == 2u);
  CHECK(epochs_seen == 2);
  for (const EpochReport& e : result->epochs) {
    CHECK(e.steps == 15);
    CHECK(e.has_val);
    CHECK(std::isfinite(e.val.mse));
  }

  const double before = mse_on(*untrained, train);
  const double after = mse_on(result->qat_graph, train);
  MESSAGE(std::string(precision) << ": QAT graph train MSE " << before << " -> " << after);
  CHECK(after < 0.8 * before);

  const ir::Graph& deployed = result->deployed;
  bool has_quantized = false;
  for (const ir::Value& v : deployed.values) has_quantized |= v.dtype == deployed_weights;
  CHECK(has_quantized);
  for (const ir::Node& n : deployed.nodes) {
    CHECK(n.op != ir::OpKind::kFakeQuant);
    if (n.name == "fc_mid") CHECK(n.precision.precision == precision);
    if (n.name == "fc1" || n.name == "fc2") CHECK(n.precision.precision == "fp16");
  }

  const std::vector<float> qat_out = forecast(result->qat_graph, val);
  const std::vector<float> deployed_out = forecast(deployed, val);
  const float step = qrt::testing::max_abs(qat_out) / 127.0f;
  const float diff = qrt::testing::max_abs_diff(deployed_out, qat_out);
  MESSAGE("max |deployed - qat| = " << diff << ", one output step = " << step);
  CHECK(diff <= step);
}

TEST_CASE("qat int8: fine-tuning lowers the loss and converts to static int8 within one step") {
  check_qat(QatMode::kInt8, ir::DType::kI8, "int8-static");
}

TEST_CASE("qat nf4: fine-tuning lowers the loss and converts to NF4 within one step") {
  check_qat(QatMode::kNF4, ir::DType::kNF4, "nf4");
}

TEST_CASE("qat rejects what it cannot calibrate, naming the problem") {
  const WindowedSeries train = noisy_sines(100, 47);
  auto fp32 = testing::forecasting_mlp(kLookback, kHorizon, kHidden, 5, true);
  REQUIRE(fp32.is_ok());
  QatOptions options;
  options.calibration.windows = 0;
  auto rejected =
      quantization_aware_fine_tune(*fp32, QatMode::kInt8, train, nullptr, cpu_registry(), options);
  REQUIRE_FALSE(rejected.is_ok());
  CHECK(rejected.status().message().find("calibration") != std::string::npos);
}

}  // namespace
}  // namespace qrt::train
