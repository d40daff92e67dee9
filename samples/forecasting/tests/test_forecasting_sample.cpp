// Tests of the ETTh1 forecasting sample: CSV parsing, the protocol's statistics and window counts,
// the repeat-last-value baseline, input rejection, the report writers and the committed model.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "samples/forecasting/cli_options.h"
#include "samples/forecasting/ett_data.h"
#include "samples/forecasting/forecast_model.h"
#include "samples/forecasting/json_report.h"
#include "samples/forecasting/metrics.h"
#include "samples/forecasting/precision_variants.h"
#include "samples/forecasting/svg_plot.h"
#include "tests/support/random.h"
#include "tools/backend.h"

namespace qrt::samples {
namespace {

const std::string kSampleDir = QRT_FORECAST_SAMPLE_DIR;
const std::string kCsvPath = kSampleDir + "/data/ETTh1.csv";
const std::string kModelPath = kSampleDir + "/forecaster.qrt";

// The data README's train-split table prints 6 decimals, so agreement is within half a unit of the
// last printed digit (plus a hair for double rounding).
constexpr double kPublishedStatTolerance = 5.1e-7;
// Repeat baseline at L=H=96, every test window (2785, no drop_last), float32 z-scored values and
// double sums: an independent NumPy computation gives MSE 1.294370595 and MAE 0.713181355. Only the
// summation order differs, so 1e-7 is ample. (The published 1.295 / 0.713 use drop_last, which
// gives 1.2946 / 0.7133.)
constexpr double kRepeatMse = 1.294370595;
constexpr double kRepeatMae = 0.713181355;
constexpr double kRepeatTolerance = 1e-7;
// Test MSE/MAE printed by train.py (PyTorch FP32, 2 threads) for the committed forecaster.qrt. The
// runtime's float32 kernels sum in a different order than PyTorch's; averaged over 1.9M errors that
// moves the metrics by ~1e-9 relative (observed), far inside the 1e-5 asked of the runtime.
constexpr double kPytorchTestMse = 0.419668694;
constexpr double kPytorchTestMae = 0.429225582;
constexpr double kPytorchRelativeTolerance = 1e-5;
constexpr double kTargetTestMse = 0.45;
// Largest relative change of the test MSE a quantized variant may show against fp32 (default
// policy, first and last weighted layers in fp16). Measured on the first 128 test windows: fp16
// +0.0006%, w8a16 -0.0004%, int8-dynamic -0.0024%, nf4 +0.13%; a wrong scale or a dropped
// layer moves the MSE by far more than 5%.
constexpr double kMaxRelativeMseChange = 0.05;
// Test windows each variant is evaluated on: enough for a stable MSE (about 67k values), few
// enough that the reference kernels keep the test in seconds.
constexpr int64_t kVariantWindows = 128;

const EttTable& ett_table() {
  static const Result<EttTable> table = load_ett_csv(kCsvPath);  // read once per test run
  REQUIRE_MESSAGE(table.is_ok(), table.status().to_string());
  return *table;
}

std::string small_csv(const std::vector<std::vector<double>>& rows) {
  std::string text = std::string(kEttHeader) + "\n";
  for (std::size_t r = 0; r < rows.size(); ++r) {
    text += "2016-07-01 " + std::to_string(r) + ":00:00";
    for (double v : rows[r]) {
      char buffer[40];
      std::snprintf(buffer, sizeof(buffer), ",%.17g", v);
      text += buffer;
    }
    text += "\n";
  }
  return text;
}

}  // namespace

TEST_CASE("ETTh1.csv parses to 17420 rows whose train statistics equal the published ones") {
  const EttTable& table = ett_table();
  CHECK(table.rows == 17420);
  // First data row of the file, as printed in it.
  CHECK(table.at(0, 0) == 5.827000141143799);
  CHECK(table.at(0, kOtChannel) == 30.5310001373291);

  auto stats = train_statistics(table);
  REQUIRE(stats.is_ok());
  const double published_mean[kEttChannels] = {7.937742, 2.021039, 5.079771, 0.746186,
                                               2.781762, 0.788453, 17.128262};
  const double published_std[kEttChannels] = {5.812749, 2.090105, 5.518794, 1.926379,
                                              1.023523, 0.630237, 9.176491};
  for (int c = 0; c < kEttChannels; ++c) {
    INFO("column " << kEttChannelNames[c]);
    CHECK(std::abs(stats->mean[c] - published_mean[c]) <= kPublishedStatTolerance);
    CHECK(std::abs(stats->std[c] - published_std[c]) <= kPublishedStatTolerance);
  }
}

TEST_CASE("random CSV values round-trip exactly and their statistics match a direct computation") {
  const uint64_t seed = 20240611;
  MESSAGE("seed " << seed);
  const int64_t rows = 13;  // prime
  const std::vector<float> noise = testing::random_floats(rows * kEttChannels, seed, -40.f, 40.f);
  std::vector<std::vector<double>> values(rows, std::vector<double>(kEttChannels));
  for (int64_t r = 0; r < rows; ++r) {
    for (int c = 0; c < kEttChannels; ++c) values[r][c] = noise[r * kEttChannels + c];
  }
  auto table = parse_ett_csv(small_csv(values), "random.csv");
  REQUIRE_MESSAGE(table.is_ok(), table.status().to_string());
  REQUIRE(table->rows == rows);
  for (int64_t r = 0; r < rows; ++r) {
    for (int c = 0; c < kEttChannels; ++c) CHECK(table->at(r, c) == values[r][c]);
  }
  auto stats = train_statistics(*table, rows);
  REQUIRE(stats.is_ok());
  for (int c = 0; c < kEttChannels; ++c) {
    // E[x²] - E[x]² in long double: a different formula from the two-pass one under test.
    long double sum = 0, squares = 0;
    for (int64_t r = 0; r < rows; ++r) {
      sum += values[r][c];
      squares += static_cast<long double>(values[r][c]) * values[r][c];
    }
    const long double mean = sum / rows;
    const double std = static_cast<double>(std::sqrt(squares / rows - mean * mean));
    CHECK(stats->std[c] > 1.0);  // the data really varies
    CHECK(stats->mean[c] == doctest::Approx(static_cast<double>(mean)).epsilon(1e-12));
    CHECK(stats->std[c] == doctest::Approx(std).epsilon(1e-9));
  }
}

TEST_CASE("every split has rows - L - H + 1 windows that start where the protocol says") {
  const EttTable& table = ett_table();
  auto stats = train_statistics(table);
  REQUIRE(stats.is_ok());
  struct Case {
    EttSplit split;
    int64_t lookback, horizon, windows, first_input_row;
  };
  const Case cases[] = {
      {EttSplit::kTest, 96, 96, 2785, 11520 - 96},  {EttSplit::kVal, 96, 96, 2785, 8640 - 96},
      {EttSplit::kTrain, 96, 96, 8449, 0},          {EttSplit::kTest, 336, 96, 2785, 11520 - 336},
      {EttSplit::kTest, 96, 720, 2161, 11520 - 96}, {EttSplit::kTest, 1, 1, 2880, 11519},
      {EttSplit::kTest, 97, 13, 2868, 11520 - 97},
  };
  for (const Case& c : cases) {
    INFO(split_name(c.split) << " L=" << c.lookback << " H=" << c.horizon);
    auto series = WindowedSeries::make(table, *stats, c.split, c.lookback, c.horizon);
    REQUIRE_MESSAGE(series.is_ok(), series.status().to_string());
    CHECK(series->window_count() == c.windows);
    const int64_t last = series->window_count() - 1;
    for (int ch = 0; ch < kEttChannels; ++ch) {
      auto z = [&](int64_t row) {
        return static_cast<float>((table.at(row, ch) - stats->mean[ch]) / stats->std[ch]);
      };
      CHECK(series->input(0)[ch] == z(c.first_input_row));
      CHECK(series->target(0)[ch] == z(c.first_input_row + c.lookback));
      // The last target row of the last window is the split's last row.
      const int64_t split_end = c.split == EttSplit::kTrain ? 8640
                                : c.split == EttSplit::kVal ? 11520
                                                            : 14400;
      CHECK(series->target(last)[(c.horizon - 1) * kEttChannels + ch] == z(split_end - 1));
    }
  }
}

TEST_CASE("the repeat-last-value baseline reproduces the independent computation") {
  const EttTable& table = ett_table();
  auto stats = train_statistics(table);
  REQUIRE(stats.is_ok());
  auto test = WindowedSeries::make(table, *stats, EttSplit::kTest, 96, 96);
  REQUIRE(test.is_ok());
  const ErrorMetrics repeat = repeat_last_value_metrics(*test);
  MESSAGE("repeat baseline: MSE " << repeat.mse << " MAE " << repeat.mae);
  CHECK(repeat.windows == 2785);
  CHECK(std::abs(repeat.mse - kRepeatMse) <= kRepeatTolerance);
  CHECK(std::abs(repeat.mae - kRepeatMae) <= kRepeatTolerance);
}

TEST_CASE("malformed or short data is rejected with a message naming the problem") {
  const std::string header = std::string(kEttHeader) + "\n";
  const std::string good_row = "2016-07-01 00:00:00,1,2,3,4,5,6,7\n";
  struct Bad {
    std::string text, expected_fragment;
  };
  const Bad cases[] = {
      {"", "empty file"},
      {header, "no data rows"},
      {"date,A,B\n" + good_row, "header"},
      {header + "2016-07-01 00:00:00,1,2,3,4,5,6\n", "8 comma-separated fields"},
      {header + "2016-07-01 00:00:00,1,2,3,4,5,6,7,8\n", "8 comma-separated fields"},
      {header + "2016-07-01 00:00:00,1,2,x3,4,5,6,7\n", "MUFL"},
      {header + "2016-07-01 00:00:00,1,2,3,4,5,6,nan\n", "not a finite number"},
      {header + "2016-07-01 00:00:00,1,2,3,,5,6,7\n", "MULL"},
      {header + good_row + "\n" + good_row, "line 3: empty line"},
      {header + ",1,2,3,4,5,6,7\n", "date"},
      {std::string("\x89PNG\r\n\x1a\n", 8), "header is '?PNG'"},
  };
  for (const Bad& bad : cases) {
    auto table = parse_ett_csv(bad.text, "bad.csv");
    INFO("input: " << bad.text.substr(0, 60));
    REQUIRE_FALSE(table.is_ok());
    INFO("message: " << table.status().message());
    CHECK(table.status().message().find(bad.expected_fragment) != std::string::npos);
  }
  CHECK_FALSE(load_ett_csv(kSampleDir + "/data/no_such_file.csv").is_ok());

  // Parsable but too short for the protocol: 100 rows.
  std::vector<std::vector<double>> rows(100, std::vector<double>(kEttChannels));
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (int c = 0; c < kEttChannels; ++c) rows[r][c] = static_cast<double>(r * 7 + c);
  }
  auto table = parse_ett_csv(small_csv(rows), "short.csv");
  REQUIRE(table.is_ok());
  const Status too_short = require_protocol_rows(*table, "short.csv");
  REQUIRE_FALSE(too_short.is_ok());
  CHECK(too_short.message().find("short.csv has 100 data rows") != std::string::npos);
  CHECK(require_protocol_rows(ett_table(), "ETTh1.csv").is_ok());
  CHECK_FALSE(train_statistics(*table).is_ok());
  auto stats = train_statistics(*table, 100);
  REQUIRE(stats.is_ok());
  auto series = WindowedSeries::make(*table, *stats, EttSplit::kTest, 96, 96);
  REQUIRE_FALSE(series.is_ok());
  CHECK(series.status().message().find("14400") != std::string::npos);
}

TEST_CASE("the JSON report and the SVG plot carry what they are given") {
  ForecastReport report;
  report.horizon = 96;
  report.lookback = 96;
  report.test_windows = 2785;
  report.repeat_mse = 1.25;
  report.device = "NVIDIA \"H\" GPU";
  report.results.push_back({"fp32", 0.375, 0.5, 12345, 678, std::nan(""), 2.5, 0});
  report.results.push_back({"int8-dynamic", 0.4375, 0.625, 4321, 999, 0.75, 8.0, 0});
  report.results.push_back({"qat-nf4", 0.40625, 0.5, 2048, 64, 0.5, 4.0, 120});
  const std::string json = report_to_json(report);
  CHECK(json.find("\"dataset\": \"ETTh1\"") != std::string::npos);
  CHECK(json.find("\"device\": \"NVIDIA \\\"H\\\" GPU\"") != std::string::npos);  // escaped
  CHECK(json.find("\"results\": [") != std::string::npos);
  CHECK(json.find("{\"precision\": \"fp32\", \"mse\": 0.375, \"mae\": 0.5, \"model_bytes\": "
                  "12345, \"activation_bytes\": 678, \"latency_ms\": null, \"latency_b32_ms\": "
                  "2.5}") != std::string::npos);
  CHECK(json.find("{\"precision\": \"int8-dynamic\", \"mse\": 0.4375, \"mae\": 0.625, "
                  "\"model_bytes\": 4321, \"activation_bytes\": 999, \"latency_ms\": 0.75, "
                  "\"latency_b32_ms\": 8}") != std::string::npos);
  CHECK(json.find("{\"precision\": \"qat-nf4\", \"mse\": 0.40625, \"mae\": 0.5, \"model_bytes\": "
                  "2048, \"activation_bytes\": 64, \"latency_ms\": 0.5, \"latency_b32_ms\": 4, "
                  "\"fine_tune_steps\": 120}") != std::string::npos);

  PlotSpec spec;
  spec.title = "a < b & c";
  spec.lines = {{"history", "#000", -5, {1, 2, 3, 4, 5}, false},
                {"forecast", "red", 0, {5, 4}, true}};
  const std::string svg = render_line_plot_svg(spec);
  CHECK(svg.rfind("<svg ", 0) == 0);
  CHECK(svg.find("a &lt; b &amp; c") != std::string::npos);
  std::size_t polylines = 0;
  for (std::size_t at = svg.find("<polyline"); at != std::string::npos;
       at = svg.find("<polyline", at + 1)) {
    ++polylines;
  }
  CHECK(polylines == 2);
  CHECK(svg.find(">history</text>") != std::string::npos);
}

TEST_CASE("the committed forecaster loads, rejects mismatched shapes and beats the target MSE") {
  auto wrong_lookback = ForecastModel::load(kModelPath, 48, 96);
  REQUIRE_FALSE(wrong_lookback.is_ok());
  CHECK(wrong_lookback.status().message().find("--lookback 48") != std::string::npos);
  auto wrong_horizon = ForecastModel::load(kModelPath, 96, 24);
  REQUIRE_FALSE(wrong_horizon.is_ok());
  CHECK(wrong_horizon.status().message().find("--horizon 24") != std::string::npos);
  CHECK_FALSE(ForecastModel::load(kCsvPath, 96, 96).is_ok());  // not a model file

  auto model = ForecastModel::load(kModelPath, 96, 96);
  REQUIRE_MESSAGE(model.is_ok(), model.status().to_string());
  MESSAGE("placement: " << model->placement());
  CHECK(model->placement().rfind("all ", 0) == 0);
  CHECK(model->placement().find(" nodes on cpu") != std::string::npos);
  const EttTable& table = ett_table();
  auto stats = train_statistics(table);
  REQUIRE(stats.is_ok());
  auto test = WindowedSeries::make(table, *stats, EttSplit::kTest, 96, 96);
  REQUIRE(test.is_ok());
  auto metrics = model->evaluate(*test, 64);
  REQUIRE_MESSAGE(metrics.is_ok(), metrics.status().to_string());
  MESSAGE("C++ test MSE " << metrics->mse << " MAE " << metrics->mae);
  CHECK(metrics->windows == 2785);
  CHECK(metrics->mse <= kTargetTestMse);
  CHECK(metrics->mse == doctest::Approx(kPytorchTestMse).epsilon(kPytorchRelativeTolerance));
  CHECK(metrics->mae == doctest::Approx(kPytorchTestMae).epsilon(kPytorchRelativeTolerance));

  // A single-window run (batch 1, a re-planned session) gives a finite, non-trivial forecast.
  auto single = model->predict(*test, 7);
  REQUIRE(single.is_ok());
  REQUIRE(single->size() == 96u * kEttChannels);
  CHECK(std::isfinite(testing::max_abs(*single)));
  CHECK(testing::max_abs(*single) > 0.1f);
  // The batch-1 session planned at least the [1, 96, 7] f32 output and the [1, 96, 128] LSTM
  // sequence, and far less than a batch-32 plan would.
  MESSAGE("activation arena at batch 1: " << model->activation_bytes() << " bytes");
  CHECK(model->activation_bytes() >= (96u * 7u + 96u * 128u) * sizeof(float));
  CHECK(model->activation_bytes() < 1024u * 1024u);
}

TEST_CASE("--precision accepts all or one precision and names the accepted ones otherwise") {
  auto defaults = parse_forecast_options({"--model", "m.qrt", "--data", "d.csv"});
  REQUIRE(defaults.is_ok());
  CHECK(defaults->precision == "all");
  CHECK(defaults->calibration_windows == 256);
  auto nf4 = parse_forecast_options(
      {"--model", "m.qrt", "--data", "d.csv", "--precision", "nf4", "--calibration-windows", "64"});
  REQUIRE(nf4.is_ok());
  CHECK(nf4->precision == "nf4");
  CHECK(nf4->calibration_windows == 64);
  auto bad = parse_forecast_options({"--model", "m.qrt", "--data", "d.csv", "--precision", "int3"});
  REQUIRE_FALSE(bad.is_ok());
  CHECK(bad.status().message().find("'int3'") != std::string::npos);
  CHECK(bad.status().message().find("dynamic") != std::string::npos);
  CHECK_FALSE(parse_forecast_options({"--model", "m", "--data", "d", "--calibration-windows", "0"})
                  .is_ok());

  CHECK(defaults->qat_epochs == 1);
  auto qat =
      parse_forecast_options({"--model", "m", "--data", "d", "--precision", "qat-nf4",
                              "--qat-epochs", "2", "--qat-max-steps", "7", "--qat-lr", "2.5e-4"});
  REQUIRE(qat.is_ok());
  CHECK(qat->qat_epochs == 2);
  CHECK(qat->qat_max_steps == 7);
  CHECK(qat->qat_lr == 2.5e-4);
  for (const char* bad_lr : {"0", "-1", "x", "1e-3x"})
    CHECK_FALSE(
        parse_forecast_options({"--model", "m", "--data", "d", "--qat-lr", bad_lr}).is_ok());
  CHECK_FALSE(
      parse_forecast_options({"--model", "m", "--data", "d", "--qat-max-steps", "0"}).is_ok());

  auto all = parse_forecast_variants("all");
  REQUIRE(all.is_ok());
  REQUIRE(all->size() == forecast_precision_names().size());
  CHECK(all->front().precision == ir::Precision::kFP32);
  std::vector<std::string> labels;
  for (const PrecisionVariant& v : *all) labels.push_back(variant_label(v));
  CHECK(std::count(labels.begin(), labels.end(), "qat-int8-static") == 1);
  CHECK(std::count(labels.begin(), labels.end(), "qat-nf4") == 1);
  CHECK(std::count(labels.begin(), labels.end(), "int8-static") == 1);
  auto one = parse_forecast_variants("static");
  REQUIRE(one.is_ok());
  REQUIRE(one->size() == 2u);
  CHECK(one->at(0).precision == ir::Precision::kFP32);
  CHECK(one->at(1).precision == ir::Precision::kInt8Static);
  CHECK_FALSE(one->at(1).qat.has_value());
  auto qat_int8 = parse_forecast_variants("qat-int8");
  REQUIRE(qat_int8.is_ok());
  REQUIRE(qat_int8->size() == 2u);
  CHECK(qat_int8->at(1).precision == ir::Precision::kInt8Static);
  CHECK(qat_int8->at(1).qat == ir::passes::QatMode::kInt8);
  auto fp32 = parse_forecast_variants("fp32");
  REQUIRE(fp32.is_ok());
  REQUIRE(fp32->size() == 1u);
  CHECK(variant_label(fp32->front()) == "fp32");
  CHECK_FALSE(parse_forecast_variants("int8-dynamic").is_ok());  // the CLI names are short
}

// The L = H = 96 training and test windows of the committed data.
static std::pair<Result<WindowedSeries>, Result<WindowedSeries>> train_and_test_windows() {
  const EttTable& table = ett_table();
  auto stats = train_statistics(table);
  REQUIRE(stats.is_ok());
  auto train = WindowedSeries::make(table, *stats, EttSplit::kTrain, 96, 96);
  auto test = WindowedSeries::make(table, *stats, EttSplit::kTest, 96, 96);
  REQUIRE(train.is_ok());
  REQUIRE(test.is_ok());
  return {std::move(train), std::move(test)};
}

static void check_variants_near_fp32(const std::vector<std::string_view>& names) {
  auto [train, test] = train_and_test_windows();
  auto fp32 = ForecastModel::load(kModelPath, 96, 96);
  REQUIRE_MESSAGE(fp32.is_ok(), fp32.status().to_string());
  // The committed file is written by the Python exporter; its C++ serialization is the same
  // graph, so the sizes agree to within the writers' padding choices.
  CHECK(fp32->serialized_bytes() > fp32->file_bytes() * 9 / 10);
  auto reference = fp32->evaluate(*test, 64, kVariantWindows);
  REQUIRE(reference.is_ok());
  CHECK(reference->windows == kVariantWindows);

  VariantSettings settings;
  settings.calibration = {64, 32};
  // qat-*: a budget that shows the row builds and converts, not what it gains.
  settings.qat_fit.batch = 8;
  settings.qat_fit.max_steps_per_epoch = 2;
  settings.qat_fit.adam.lr = 1e-4f;
  for (std::string_view cli_name : names) {
    auto parsed = parse_forecast_variants(cli_name);
    REQUIRE(parsed.is_ok());
    const PrecisionVariant& variant = parsed->back();
    const std::string name = ir::precision_name(variant.precision);
    INFO(cli_name);
    auto built = build_precision_variant(fp32->graph(), variant, *train, nullptr, settings);
    REQUIRE_MESSAGE(built.is_ok(), built.status().to_string());
    if (variant.qat) {
      REQUIRE(built->training.size() == 1u);
      CHECK(built->training[0].steps == 2);
      CHECK(std::isfinite(built->training[0].train_loss));
    } else {
      CHECK(built->training.empty());
    }
    bool fake_quant_left = false;
    for (const ir::Node& n : built->graph.nodes) fake_quant_left |= n.op == ir::OpKind::kFakeQuant;
    CHECK_FALSE(fake_quant_left);
    // The default policy: some weighted layer converted to the target, the first and last kept.
    const std::string layers = weighted_layer_summary(built->graph);
    MESSAGE(name << ": " << layers);
    CHECK(layers.find(" " + name) != std::string::npos);
    CHECK(layers.find(" fp16") != std::string::npos);
    CHECK(layers.find("fp32") == std::string::npos);
    auto model = ForecastModel::from_graph(
        std::make_shared<const ir::Graph>(std::move(built->graph)), name, 96, 96);
    // CHECK, not REQUIRE: one variant that cannot run must not hide the others' results.
    CHECK_MESSAGE(model.is_ok(), model.status().to_string());
    if (!model.is_ok()) continue;
    CHECK(model->file_bytes() == 0u);
    CHECK(model->serialized_bytes() < fp32->serialized_bytes());
    auto metrics = model->evaluate(*test, 64, kVariantWindows);
    REQUIRE_MESSAGE(metrics.is_ok(), metrics.status().to_string());
    const double change = (metrics->mse - reference->mse) / reference->mse;
    MESSAGE(name << " test MSE " << metrics->mse << " (" << 100.0 * change << "% vs fp32)");
    CHECK(metrics->windows == kVariantWindows);
    CHECK(metrics->mse != reference->mse);  // the variant really runs other weights
    CHECK(std::abs(change) < kMaxRelativeMseChange);
    auto latency = model->median_latency_ms(*test, 3, 32);
    REQUIRE(latency.is_ok());
    CHECK(*latency > 0.0);
  }
  CHECK_FALSE(fp32->median_latency_ms(*test, 3, 0).is_ok());
  CHECK_FALSE(fp32->median_latency_ms(*test, 3, test->window_count() + 1).is_ok());
}

TEST_CASE("every precision of the committed forecaster builds, shrinks and stays near fp32") {
  check_variants_near_fp32({"fp16", "w8a16", "dynamic", "nf4"});
}

// The static pass puts activation QuantParams on the float output of the node feeding a quantized
// layer (here the NLinear Sub), whose kernel must accept them.
TEST_CASE("the static int8 forecaster runs and stays near fp32") {
  check_variants_near_fp32({"static"});
}

// Quantization-aware fine-tuning on a tiny budget (two steps of 8 windows, no validation pass):
// the row converts to the deployable graph (no FakeQuant left) and evaluates like the others.
TEST_CASE("the qat-int8 and qat-nf4 forecasters build, convert and stay near fp32") {
  check_variants_near_fp32({"qat-int8", "qat-nf4"});
}

// `forecast --device cuda`: with a usable GPU each precision's CUDA session (nodes without a CUDA
// kernel stay on the CPU) reproduces its CPU session up to the GPU kernels' summation order (and
// int8 codes that land on the other side of a rounding boundary); without one, asking for it fails
// with the reason, which the program prints before falling back to the CPU.
TEST_CASE("on a GPU every precision matches its CPU session; without one, loading says why") {
  auto gpu = tools::describe_device(runtime::Device::kCuda);
  if (!gpu.is_ok()) {
    auto refused = ForecastModel::load(kModelPath, 96, 96, runtime::Device::kCuda);
    REQUIRE_FALSE(refused.is_ok());
    CHECK(refused.status().message().find(gpu.status().message()) != std::string::npos);
    MESSAGE("SKIPPED: the CPU/GPU comparison (" << gpu.status().message() << ")");
    return;
  }
  MESSAGE("device: " << *gpu);
  // Relative MSE change between the CPU and the GPU session of one graph. Not yet calibrated on a
  // GPU: a wrong scale or layout moves the MSE by percent, rounding-order noise by ~1e-6.
  constexpr double kMaxDeviceMseChange = 1e-3;
  auto [train, test] = train_and_test_windows();
  auto fp32 = ForecastModel::load(kModelPath, 96, 96);
  REQUIRE_MESSAGE(fp32.is_ok(), fp32.status().to_string());
  VariantSettings settings;
  settings.calibration = {64, 32};
  for (std::string_view cli_name : {"fp16", "w8a16", "dynamic", "static", "nf4"}) {
    INFO(cli_name);
    auto parsed = parse_forecast_variants(cli_name);
    REQUIRE(parsed.is_ok());
    auto built = build_precision_variant(fp32->graph(), parsed->back(), *train, nullptr, settings);
    REQUIRE_MESSAGE(built.is_ok(), built.status().to_string());
    auto graph = std::make_shared<const ir::Graph>(std::move(built->graph));
    auto on_cpu = ForecastModel::from_graph(graph, std::string(cli_name), 96, 96);
    auto on_gpu =
        ForecastModel::from_graph(graph, std::string(cli_name), 96, 96, runtime::Device::kCuda);
    REQUIRE_MESSAGE(on_cpu.is_ok(), on_cpu.status().to_string());
    CHECK_MESSAGE(on_gpu.is_ok(), on_gpu.status().to_string());
    if (!on_gpu.is_ok()) continue;
    MESSAGE(cli_name << " placement: " << on_gpu->placement());
    CHECK(on_gpu->placement().find("on cuda") != std::string::npos);
    auto cpu_metrics = on_cpu->evaluate(*test, 64, kVariantWindows);
    auto gpu_metrics = on_gpu->evaluate(*test, 64, kVariantWindows);
    REQUIRE(cpu_metrics.is_ok());
    REQUIRE_MESSAGE(gpu_metrics.is_ok(), gpu_metrics.status().to_string());
    const double change = (gpu_metrics->mse - cpu_metrics->mse) / cpu_metrics->mse;
    MESSAGE(cli_name << " MSE cpu " << cpu_metrics->mse << " cuda " << gpu_metrics->mse);
    CHECK(std::abs(change) < kMaxDeviceMseChange);
    // Batch 1 three times: a plain run, the run that records the CUDA graph, a replay; all three
    // must give the same answer.
    auto first = on_gpu->predict(*test, 7);
    REQUIRE(first.is_ok());
    for (int run = 2; run <= 3; ++run) {
      auto again = on_gpu->predict(*test, 7);
      REQUIRE(again.is_ok());
      CHECK_MESSAGE(*again == *first, "batch-1 run " << run);
    }
    CHECK(testing::max_abs(*first) > 0.1f);
  }
}

}  // namespace qrt::samples
