// forecast: evaluates a .qrt forecaster on the ETTh1 test split with the standard protocol and
// reports MSE/MAE (normalised scale, every window), the repeat-last-value baseline, model size and
// batch-1 latency; optionally writes a JSON report and an SVG of one forecast.
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "samples/forecasting/cli_options.h"
#include "samples/forecasting/ett_data.h"
#include "samples/forecasting/forecast_model.h"
#include "samples/forecasting/json_report.h"
#include "samples/forecasting/metrics.h"
#include "samples/forecasting/svg_plot.h"
#include "samples/forecasting/text_file.h"

namespace qrt::samples {
namespace {

// "Repeat" column of Zeng et al. (AAAI 2023), Table 2, ETTh1 H=96 (L=336, drop_last).
constexpr double kPublishedRepeatMse = 1.295;
constexpr double kPublishedRepeatMae = 0.713;

// The NVIDIA driver exposes one entry per GPU here; no CUDA library is needed to ask.
bool nvidia_gpu_present() {
  std::error_code ec;
  const std::filesystem::path gpus("/proc/driver/nvidia/gpus");
  return std::filesystem::is_directory(gpus, ec) &&
         std::filesystem::directory_iterator(gpus, ec) != std::filesystem::directory_iterator();
}

void report_device_choice(bool want_cuda) {
  if (!want_cuda) return;
  if (!nvidia_gpu_present()) {
    std::printf("--device cuda: no CUDA GPU found; running on the CPU\n");
  } else {
    std::printf(
        "--device cuda: the CUDA backend has no kernels in this build yet; "
        "running on the CPU\n");
  }
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

void print_table(const ForecastOptions& options, const ErrorMetrics& model,
                 const ErrorMetrics& repeat, uint64_t model_bytes, double latency_ms) {
  std::printf(
      "ETTh1 test split: lookback %lld, horizon %lld, %lld windows (stride 1, no drop_last), "
      "7 channels, normalised scale\n",
      static_cast<long long>(options.lookback), static_cast<long long>(options.horizon),
      static_cast<long long>(model.windows));
  std::printf("%-26s %10s %10s %12s %12s\n", "forecaster", "MSE", "MAE", "bytes", "latency ms");
  std::printf("%-26s %10.6f %10.6f %12llu %12.3f\n", "model fp32", model.mse, model.mae,
              static_cast<unsigned long long>(model_bytes), latency_ms);
  std::printf("%-26s %10.6f %10.6f %12s %12s\n", "repeat last value", repeat.mse, repeat.mae, "-",
              "-");
  std::printf("%-26s %10.3f %10.3f %12s %12s\n", "repeat, published [1]", kPublishedRepeatMse,
              kPublishedRepeatMae, "-", "-");
  std::printf(
      "latency: batch 1, median of %lld windows, CPU. [1] Zeng et al., AAAI 2023, "
      "L=336 with drop_last.\n",
      static_cast<long long>(options.latency_windows));
}

Status run(const ForecastOptions& options) {
  report_device_choice(options.want_cuda);
  QRT_ASSIGN_OR_RETURN(EttTable table, load_ett_csv(options.data_path));
  QRT_RETURN_IF_ERROR(require_protocol_rows(table, options.data_path));
  QRT_ASSIGN_OR_RETURN(ChannelStats stats, train_statistics(table));
  QRT_ASSIGN_OR_RETURN(
      WindowedSeries test,
      WindowedSeries::make(table, stats, EttSplit::kTest, options.lookback, options.horizon));
  if (options.plot_window >= test.window_count()) {
    return invalid_argument("--plot-window " + std::to_string(options.plot_window) +
                            " is past the last of " + std::to_string(test.window_count()) +
                            " test windows");
  }
  QRT_ASSIGN_OR_RETURN(ForecastModel model,
                       ForecastModel::load(options.model_path, options.lookback, options.horizon));
  QRT_ASSIGN_OR_RETURN(ErrorMetrics metrics, model.evaluate(test, options.batch));
  const ErrorMetrics repeat = repeat_last_value_metrics(test);
  QRT_ASSIGN_OR_RETURN(double latency_ms, model.median_latency_ms(test, options.latency_windows));
  print_table(options, metrics, repeat, model.file_bytes(), latency_ms);

  if (!options.json_path.empty()) {
    ForecastReport report;
    report.horizon = options.horizon;
    report.lookback = options.lookback;
    report.test_windows = metrics.windows;
    report.repeat_mse = repeat.mse;
    report.repeat_mae = repeat.mae;
    report.results.push_back({"fp32", metrics.mse, metrics.mae, model.file_bytes(), latency_ms});
    QRT_RETURN_IF_ERROR(write_text_file(options.json_path, report_to_json(report)));
    std::printf("wrote %s\n", options.json_path.c_str());
  }
  if (!options.plot_path.empty()) {
    QRT_ASSIGN_OR_RETURN(std::vector<float> forecast, model.predict(test, options.plot_window));
    QRT_RETURN_IF_ERROR(
        write_text_file(options.plot_path, plot_svg(test, stats, options.plot_window, forecast)));
    std::printf("wrote %s\n", options.plot_path.c_str());
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
