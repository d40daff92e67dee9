// Command-line options of the `forecast` program.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/status.h"

namespace qrt::samples {

struct ForecastOptions {
  std::string model_path;
  std::string data_path;
  int64_t lookback = 96;
  int64_t horizon = 96;
  std::string json_path;  // empty: no JSON
  std::string plot_path;  // empty: no SVG
  bool want_cuda = false;
  int64_t batch = 32;
  int64_t plot_window = 0;            // test window drawn in the SVG
  int64_t latency_windows = 50;       // runs (batch 1, and batch 32) whose median is the latency
  std::string precision = "all";      // all, or one of forecast_precision_names()
  int64_t calibration_windows = 256;  // training windows that calibrate the static int8 model
  // qat-* rows: fine-tuning budget on the training split (batches of 64 windows, Adam).
  int64_t qat_epochs = 1;
  int64_t qat_max_steps = 100;  // batches per epoch (of 133 in the full split)
  double qat_lr = 5e-4;
  bool help = false;
};

std::string forecast_usage();
// Parses argv[1..]; every rejection names the option at fault.
Result<ForecastOptions> parse_forecast_options(const std::vector<std::string>& args);

}  // namespace qrt::samples
