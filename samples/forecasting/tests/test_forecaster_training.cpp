// Tests of the forecaster built and trained in C++: its graph is the one train.py exports (the
// committed forecaster.qrt), its initialisation follows PyTorch's bounds, and a few training steps
// on ETTh1 lower the training loss.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "ir/serialize.h"
#include "ops/register.h"
#include "samples/forecasting/forecaster_graph.h"
#include "tests/format/sample_graphs.h"
#include "train/ett_data.h"
#include "train/fine_tune.h"
#include "train/trainer.h"

namespace qrt::samples {
namespace {

const std::string kSampleDir = QRT_FORECAST_SAMPLE_DIR;

ir::Graph built(const ForecasterShape& shape, uint64_t seed) {
  Result<ir::Graph> g = build_forecaster(shape, seed);
  REQUIRE_MESSAGE(g.is_ok(), g.status().to_string());
  return *std::move(g);
}

std::span<const float> weights(const ir::Graph& g, const std::string& name) {
  const ir::ValueId id = g.find_value(name);
  REQUIRE_MESSAGE(id != ir::kNoValue, name);
  const ir::Value& v = g.values[static_cast<std::size_t>(id)];
  REQUIRE(v.is_constant());
  return v.data->as<float>();
}

// Every value's type with a dynamic batch, as inference derives it (a file stores only hints).
std::vector<ir::TensorType> value_types(const ir::Graph& g, int64_t lookback) {
  auto types = ir::infer_shapes(g, {ir::Shape{ir::kDynamicDim, lookback, train::kEttChannels}});
  REQUIRE_MESSAGE(types.is_ok(), types.status().to_string());
  return *types;
}

// `g` with every value's shape as inference derives it (a file stores intermediate shapes as
// hints only) and the weights' bytes and the metadata of `like`, so that what is left to compare
// is the structure.
ir::Graph structure_of(const ir::Graph& g, const ir::Graph& like) {
  ir::Graph s = g;
  const auto types = value_types(g, 96);
  for (std::size_t i = 0; i < s.values.size(); ++i) {
    ir::Value& v = s.values[i];
    v.shape = types[i].shape;
    const ir::Value* w = i < like.values.size() ? &like.values[i] : nullptr;
    if (v.data && w != nullptr && w->data && w->data->size() == v.data->size()) v.data = w->data;
  }
  s.metadata = like.metadata;
  return s;
}

TEST_CASE("the C++ forecaster has exactly the graph train.py exports") {
  const Result<ir::Graph> exported = ir::load_model_file(kSampleDir + "/forecaster.qrt");
  REQUIRE_MESSAGE(exported.is_ok(), exported.status().to_string());
  const ir::Graph& want = *exported;
  const ir::Graph got = built(ForecasterShape{}, 7);
  // Freshly drawn weights...
  const auto a = weights(got, "fc2.weight");
  const auto b = weights(want, "fc2.weight");
  REQUIRE(a.size() == b.size());
  CHECK_FALSE(std::equal(a.begin(), a.end(), b.begin()));
  // ...in the same values, nodes, attributes, precision records, inputs and outputs, in order.
  qrt::testing::check_graphs_equal(structure_of(got, want), structure_of(want, want));
}

TEST_CASE("the forecaster's sizes follow its shape and bad sizes are named") {
  const ForecasterShape shape{48, 24, 32, 3};
  const ir::Graph g = built(shape, 1);
  const auto types = value_types(g, 48);
  const ir::ValueId out = g.outputs.at(0);
  CHECK(ir::shape_to_string(types[static_cast<std::size_t>(out)].shape) == "[?, 24, 7]");
  CHECK(weights(g, "lstm.weight_hh_l2").size() == 4 * 32 * 32);
  CHECK(weights(g, "fc2.weight").size() == 24 * 7 * 32);

  ForecasterShape bad;
  bad.hidden = 0;
  const Result<ir::Graph> r = build_forecaster(bad, 1);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("hidden") != std::string::npos);
}

// Uniform(-bound, bound) for Linear (bound 1/sqrt(fan_in)) and LSTM (1/sqrt(hidden)); LayerNorm
// gamma 1, beta 0. The extremes and the spread are checked too, so a smaller bound also fails.
TEST_CASE("the initialisation follows PyTorch's default bounds") {
  const ForecasterShape shape{96, 96, 64, 2};
  const uint64_t seed = 2021;
  MESSAGE("seed " << seed);
  const ir::Graph g = built(shape, seed);
  // Bounds computed in float as the initialisation does, so the last ulp agrees.
  const auto uniform = [&](const std::string& name, float fan_in) {
    const double bound = 1.0f / std::sqrt(fan_in);
    INFO(name << " bound " << bound);
    const auto w = weights(g, name);
    double max_abs = 0.0, sum = 0.0, sum_sq = 0.0;
    for (const float v : w) {
      max_abs = std::max(max_abs, std::fabs(static_cast<double>(v)));
      sum += v;
      sum_sq += static_cast<double>(v) * v;
    }
    const double n = static_cast<double>(w.size());
    CHECK(max_abs <= bound);
    CHECK(max_abs > bound * (1.0 - 20.0 / n));  // n uniform draws reach close to the bound
    CHECK(std::fabs(sum / n) < 4.0 * bound / std::sqrt(3.0 * n));  // mean 0 within 4 sigma
    // Variance of U(-b, b) is b^2 / 3.
    CHECK(sum_sq / n == doctest::Approx(bound * bound / 3.0).epsilon(0.25));
  };
  uniform("time_linear.weight", 96.0f);
  uniform("time_linear.bias", 96.0f);
  for (const char* name : {"lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0",
                           "lstm.bias_hh_l0", "lstm.weight_ih_l1", "lstm.bias_hh_l1"})
    uniform(name, 64.0f);
  uniform("fc1.weight", 64.0f);
  uniform("fc2.weight", 64.0f);
  uniform("fc2.bias", 64.0f);
  for (const float v : weights(g, "norm.weight")) REQUIRE(v == 1.0f);
  for (const float v : weights(g, "norm.bias")) REQUIRE(v == 0.0f);

  const ir::Graph same = built(shape, seed);
  const ir::Graph other = built(shape, seed + 1);
  const auto w = weights(g, "fc1.weight");
  CHECK(std::equal(w.begin(), w.end(), weights(same, "fc1.weight").begin()));
  CHECK_FALSE(std::equal(w.begin(), w.end(), weights(other, "fc1.weight").begin()));
}

TEST_CASE("a few training steps on ETTh1 lower the training loss") {
  const ForecasterShape shape{24, 12, 16, 2};
  const uint64_t seed = 5;
  MESSAGE("seed " << seed);
  const auto table = train::load_ett_csv(kSampleDir + "/data/ETTh1.csv");
  REQUIRE_MESSAGE(table.is_ok(), table.status().to_string());
  const auto stats = train::train_statistics(*table);
  REQUIRE(stats.is_ok());
  const auto full = train::WindowedSeries::make(*table, *stats, train::EttSplit::kTrain,
                                                shape.lookback, shape.horizon);
  REQUIRE(full.is_ok());
  // The first 400 z-scored training rows: 365 windows.
  constexpr int64_t kRows = 400;
  std::vector<float> rows(full->input(0), full->input(0) + kRows * train::kEttChannels);
  const auto slice =
      train::WindowedSeries::from_normalized_rows(std::move(rows), shape.lookback, shape.horizon);
  REQUIRE(slice.is_ok());

  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  auto trainer = train::Trainer::create(built(shape, seed), registry);
  REQUIRE_MESSAGE(trainer.is_ok(), trainer.status().to_string());
  const auto before = train::evaluate_windows(**trainer, *slice, 128);
  REQUIRE(before.is_ok());
  train::FineTuneOptions fit;
  fit.epochs = 3;
  fit.batch = 32;
  fit.seed = seed;
  const auto reports = train::fine_tune(**trainer, *slice, nullptr, fit);
  REQUIRE_MESSAGE(reports.is_ok(), reports.status().to_string());
  const auto after = train::evaluate_windows(**trainer, *slice, 128);
  REQUIRE(after.is_ok());
  MESSAGE("train MSE before " << before->mse << ", after " << reports->size() << " epochs "
                              << after->mse);
  CHECK(after->mse < 0.8 * before->mse);
  CHECK(reports->back().train_loss < reports->front().train_loss);
}

}  // namespace
}  // namespace qrt::samples
