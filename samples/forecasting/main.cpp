// forecast: evaluates a .qrt forecaster on the ETTh1 test split with the standard protocol and
// reports, per precision built from it (fp32, fp16, w8a16, int8 dynamic and static, nf4, and
// static int8 / nf4 after quantization-aware fine-tuning), MSE/MAE (normalised scale, every
// window), the change vs fp32, model size and batch-1 / batch-32 latency, beside the
// repeat-last-value baseline; optionally writes a JSON report and an SVG of one forecast.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "samples/forecasting/cli_options.h"
#include "samples/forecasting/ett_data.h"
#include "samples/forecasting/forecast_model.h"
#include "samples/forecasting/json_report.h"
#include "samples/forecasting/metrics.h"
#include "samples/forecasting/precision_variants.h"
#include "samples/forecasting/svg_plot.h"
#include "samples/forecasting/text_file.h"
#include "tools/backend.h"

namespace qrt::samples {
namespace {

// "Repeat" column of Zeng et al. (AAAI 2023), Table 2, ETTh1 H=96 (L=336, drop_last).
constexpr double kPublishedRepeatMse = 1.295;
constexpr double kPublishedRepeatMae = 0.713;

// Where the rows run: the CPU, or with --device cuda the GPU when one is usable (the reason is
// printed and the CPU used when not, so the demo command works on any machine).
struct RunDevice {
  runtime::Device device = runtime::Device::kCpu;
  std::string description;  // "cpu", or the GPU's summary
};

Result<RunDevice> choose_device(bool want_cuda) {
  if (want_cuda) {
    auto gpu = tools::describe_device(runtime::Device::kCuda);
    if (gpu.is_ok()) {
      std::printf("device: %s (nodes without a CUDA kernel run on the CPU)\n", gpu->c_str());
      return RunDevice{runtime::Device::kCuda, std::move(gpu).value()};
    }
    std::printf("--device cuda: %s; running on the CPU\n", gpu.status().message().c_str());
  }
  QRT_ASSIGN_OR_RETURN(std::string cpu, tools::describe_device(runtime::Device::kCpu));
  return RunDevice{runtime::Device::kCpu, std::move(cpu)};
}

std::string plot_svg(const WindowedSeries& test, const ChannelStats& stats, int64_t window,
                     const std::vector<float>& forecast) {
  // Back to degrees Celsius: x = z·std + mean with the train statistics.
  auto celsius = [&](float z) {
    return static_cast<double>(z) * stats.std[kOtChannel] + stats.mean[kOtChannel];
  };
  PlotLine history{
      "look-back (truth)", "#555555", static_cast<double>(-test.lookback()), {}, false};
  PlotLine truth{"truth", "#1f77b4", 0.0, {}, false};
  PlotLine predicted{"forecast", "#d62728", 0.0, {}, true};
  for (int64_t t = 0; t < test.lookback(); ++t) {
    history.values.push_back(celsius(test.input(window)[t * kEttChannels + kOtChannel]));
  }
  for (int64_t t = 0; t < test.horizon(); ++t) {
    truth.values.push_back(celsius(test.target(window)[t * kEttChannels + kOtChannel]));
    predicted.values.push_back(celsius(forecast[t * kEttChannels + kOtChannel]));
  }
  PlotSpec spec;
  spec.title = "ETTh1 test window " + std::to_string(window) + ": oil temperature (OT)";
  spec.x_label = "hours relative to the forecast start";
  spec.y_label = "OT (degrees C)";
  spec.lines = {std::move(history), std::move(truth), std::move(predicted)};
  spec.marker_x = -0.5;
  return render_line_plot_svg(spec);
}

// One evaluated precision: a row of the table and one result of the JSON report.
struct PrecisionRow {
  std::string name;  // variant_label
  ErrorMetrics metrics;
  uint64_t model_bytes = 0;
  uint64_t activation_bytes = 0;  // batch 1 (ForecastModel::activation_bytes)
  double latency_b1_ms = 0.0;
  double latency_b32_ms = 0.0;
  std::string layers;                        // weighted layers and their precision
  std::string placement;                     // nodes per device (ForecastModel::placement)
  std::vector<train::EpochReport> training;  // qat-*: the fine-tuning epochs
  double build_seconds = 0.0;                // building the model (qat-*: mostly fine-tuning)
};

// Windows per run for the second latency column (the evaluation default).
constexpr int64_t kLatencyBatch = 32;

double percent_change(double value, double reference) {
  return reference == 0.0 ? 0.0 : 100.0 * (value - reference) / reference;
}

// Training steps the row's model was fine-tuned for (0: none).
int64_t fine_tune_steps(const PrecisionRow& row) {
  int64_t steps = 0;
  for (const train::EpochReport& e : row.training) steps += e.steps;
  return steps;
}

// The calibration and fine-tuning settings the options give the variants.
VariantSettings variant_settings(const ForecastOptions& options) {
  VariantSettings settings;
  settings.calibration.windows = options.calibration_windows;
  settings.qat_fit.epochs = options.qat_epochs;
  settings.qat_fit.max_steps_per_epoch = options.qat_max_steps;
  settings.qat_fit.adam.lr = static_cast<float>(options.qat_lr);
  return settings;
}

// One line per fine-tuned row: the budget it had, the best validation MSE (the epoch kept) and
// what it cost.
void print_fine_tuning(const ForecastOptions& options, const PrecisionRow& row) {
  if (row.training.empty()) return;
  double train_seconds = 0.0, best_val = INFINITY;
  for (const train::EpochReport& e : row.training) {
    train_seconds += e.train_seconds;
    best_val = std::min(best_val, e.val.mse);
  }
  const int64_t steps = fine_tune_steps(row);
  std::printf(
      "%s: fine-tuned %zu epoch(s), %lld steps of %lld training windows (%.0f ms/step), lr %.3g, "
      "best val MSE %.6f; built in %.1f s\n",
      row.name.c_str(), row.training.size(), static_cast<long long>(steps),
      static_cast<long long>(variant_settings(options).qat_fit.batch),
      1e3 * train_seconds / static_cast<double>(steps), options.qat_lr, best_val,
      row.build_seconds);
}

void print_table(const ForecastOptions& options, const RunDevice& device,
                 const std::vector<PrecisionRow>& rows, const ErrorMetrics& repeat) {
  const PrecisionRow& fp32 = rows.front();
  std::printf(
      "ETTh1 test split: lookback %lld, horizon %lld, %lld windows (stride 1, no drop_last), "
      "7 channels, normalised scale\n",
      static_cast<long long>(options.lookback), static_cast<long long>(options.horizon),
      static_cast<long long>(fp32.metrics.windows));
  std::printf("%-24s %10s %10s %9s %10s %7s %9s %9s %9s\n", "forecaster", "MSE", "MAE", "dMSE %",
              "bytes", "ratio", "act KB", "b1 ms", "b32 ms");
  for (const PrecisionRow& r : rows) {
    std::printf(
        "%-24s %10.6f %10.6f %+9.3f %10llu %7.3f %9.1f %9.3f %9.3f\n", ("model " + r.name).c_str(),
        r.metrics.mse, r.metrics.mae, percent_change(r.metrics.mse, fp32.metrics.mse),
        static_cast<unsigned long long>(r.model_bytes),
        static_cast<double>(r.model_bytes) / static_cast<double>(fp32.model_bytes),
        static_cast<double>(r.activation_bytes) / 1024.0, r.latency_b1_ms, r.latency_b32_ms);
  }
  std::printf("%-24s %10.6f %10.6f %9s %10s %7s %9s %9s %9s\n", "repeat last value", repeat.mse,
              repeat.mae, "-", "-", "-", "-", "-", "-");
  std::printf("%-24s %10.3f %10.3f %9s %10s %7s %9s %9s %9s\n", "repeat, published [1]",
              kPublishedRepeatMse, kPublishedRepeatMae, "-", "-", "-", "-", "-", "-");
  if (rows.size() > 1) {
    std::printf("layers (default policy: first and last weighted layer kept in fp16):\n");
    for (const PrecisionRow& r : rows)
      if (r.name != "fp32") std::printf("  %-15s %s\n", r.name.c_str(), r.layers.c_str());
  }
  if (device.device != runtime::Device::kCpu) {
    std::printf("placement on %s:\n", device.description.c_str());
    for (const PrecisionRow& r : rows)
      std::printf("  %-15s %s\n", r.name.c_str(), r.placement.c_str());
  }
  for (const PrecisionRow& r : rows) print_fine_tuning(options, r);
  std::printf(
      "dMSE: MSE change vs fp32. bytes: serialized .qrt size; ratio vs fp32. act KB: activation "
      "memory planned for batch 1 (weights are used in place). latency: median of "
      "%lld runs at batch 1 and at batch %lld, %s. [1] Zeng et al., AAAI 2023, L=336 with "
      "drop_last.\n",
      static_cast<long long>(options.latency_windows), static_cast<long long>(kLatencyBatch),
      device.description.c_str());
}

Result<PrecisionRow> evaluate_precision(ForecastModel& model, const PrecisionVariant& variant,
                                        const WindowedSeries& test,
                                        const ForecastOptions& options) {
  PrecisionRow row;
  row.name = variant_label(variant);
  row.layers = weighted_layer_summary(model.graph());
  row.model_bytes = model.serialized_bytes();
  row.placement = model.placement();
  QRT_ASSIGN_OR_RETURN(row.metrics, model.evaluate(test, options.batch));
  QRT_ASSIGN_OR_RETURN(row.latency_b1_ms, model.median_latency_ms(test, options.latency_windows));
  row.activation_bytes = model.activation_bytes();  // planned for those batch-1 runs
  QRT_ASSIGN_OR_RETURN(row.latency_b32_ms,
                       model.median_latency_ms(test, options.latency_windows,
                                               std::min(kLatencyBatch, test.window_count())));
  return row;
}

Result<PrecisionRow> build_and_evaluate(const ir::Graph& fp32, const PrecisionVariant& variant,
                                        const WindowedSeries& train, const WindowedSeries& val,
                                        const WindowedSeries& test, const ForecastOptions& options,
                                        runtime::Device device) {
  const std::string name = variant_label(variant);
  const auto start = std::chrono::steady_clock::now();
  auto built = build_precision_variant(fp32, variant, train, &val, variant_settings(options));
  if (!built.is_ok()) return built.status().with_context("building the " + name + " model");
  const std::chrono::duration<double> build_time = std::chrono::steady_clock::now() - start;
  QRT_ASSIGN_OR_RETURN(
      ForecastModel model,
      ForecastModel::from_graph(std::make_shared<const ir::Graph>(std::move(built->graph)),
                                options.model_path + " (" + name + ")", options.lookback,
                                options.horizon, device));
  auto row = evaluate_precision(model, variant, test, options);
  if (!row.is_ok()) return row.status().with_context("evaluating the " + name + " model");
  row->training = std::move(built->training);
  row->build_seconds = build_time.count();
  return row;
}

Status run(const ForecastOptions& options) {
  QRT_ASSIGN_OR_RETURN(const RunDevice device, choose_device(options.want_cuda));
  QRT_ASSIGN_OR_RETURN(const std::vector<PrecisionVariant> variants,
                       parse_forecast_variants(options.precision));
  QRT_ASSIGN_OR_RETURN(const EttSplits data,
                       load_ett_splits(options.data_path, options.lookback, options.horizon));
  const WindowedSeries& train = data.train;
  const WindowedSeries& val = data.val;
  const WindowedSeries& test = data.test;
  if (options.plot_window >= test.window_count()) {
    return invalid_argument("--plot-window " + std::to_string(options.plot_window) +
                            " is past the last of " + std::to_string(test.window_count()) +
                            " test windows");
  }
  QRT_ASSIGN_OR_RETURN(
      ForecastModel model,
      ForecastModel::load(options.model_path, options.lookback, options.horizon, device.device));
  std::vector<PrecisionRow> rows;
  // A precision that cannot be built or run is reported and the others still are: one missing
  // kernel should not hide every other result. The exit status still says something failed.
  std::vector<std::string> failures;
  for (const PrecisionVariant& variant : variants) {
    if (variant.precision == ir::Precision::kFP32) {
      QRT_ASSIGN_OR_RETURN(PrecisionRow row, evaluate_precision(model, variant, test, options));
      rows.push_back(std::move(row));
      continue;
    }
    auto row = build_and_evaluate(model.graph(), variant, train, val, test, options, device.device);
    if (!row.is_ok()) {
      failures.push_back(variant_label(variant) + ": " + row.status().message());
      continue;
    }
    rows.push_back(std::move(row).value());
  }
  const ErrorMetrics repeat = repeat_last_value_metrics(test);
  print_table(options, device, rows, repeat);
  for (const std::string& f : failures) std::printf("not available: %s\n", f.c_str());

  if (!options.json_path.empty()) {
    ForecastReport report;
    report.horizon = options.horizon;
    report.lookback = options.lookback;
    report.test_windows = rows.front().metrics.windows;
    report.repeat_mse = repeat.mse;
    report.repeat_mae = repeat.mae;
    report.device = device.description;
    for (const PrecisionRow& r : rows)
      report.results.push_back({r.name, r.metrics.mse, r.metrics.mae, r.model_bytes,
                                r.activation_bytes, r.latency_b1_ms, r.latency_b32_ms,
                                fine_tune_steps(r)});
    QRT_RETURN_IF_ERROR(write_text_file(options.json_path, report_to_json(report)));
    std::printf("wrote %s\n", options.json_path.c_str());
  }
  if (!options.plot_path.empty()) {
    QRT_ASSIGN_OR_RETURN(std::vector<float> forecast, model.predict(test, options.plot_window));
    QRT_RETURN_IF_ERROR(write_text_file(options.plot_path,
                                        plot_svg(test, data.stats, options.plot_window, forecast)));
    std::printf("wrote %s\n", options.plot_path.c_str());
  }
  if (!failures.empty()) {
    std::string message = std::to_string(failures.size()) + " precision(s) failed";
    for (const std::string& f : failures) message += "; " + f;
    return unsupported(message);
  }
  return Status::ok();
}

}  // namespace
}  // namespace qrt::samples

int main(int argc, char** argv) {
  using namespace qrt::samples;
  auto options = parse_forecast_options(std::vector<std::string>(argv + 1, argv + argc));
  if (!options.is_ok()) {
    std::fprintf(stderr, "forecast: %s\n%s", options.status().message().c_str(),
                 forecast_usage().c_str());
    return 2;
  }
  if (options->help) {
    std::printf("%s", forecast_usage().c_str());
    return 0;
  }
  const qrt::Status status = run(*options);
  if (!status.is_ok()) {
    std::fprintf(stderr, "forecast: %s\n", status.to_string().c_str());
    return 1;
  }
  return 0;
}
