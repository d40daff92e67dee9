// Forecast error metrics on the normalised scale, averaged over every window, horizon step and
// channel (the literature's multivariate MSE/MAE).
#pragma once

#include <cstdint>

#include "samples/forecasting/ett_data.h"

namespace qrt::samples {

struct ErrorMetrics {
  double mse = 0.0;
  double mae = 0.0;
  int64_t windows = 0;
};

// Sums squared and absolute errors in double, so the mean over ~1.9M values keeps its digits.
class ErrorAccumulator {
 public:
  void add(const float* prediction, const float* target, int64_t count);
  void count_window() { ++windows_; }
  ErrorMetrics result() const;

 private:
  double squared_ = 0.0;
  double absolute_ = 0.0;
  int64_t values_ = 0;
  int64_t windows_ = 0;
};

// The "Repeat" baseline of Zeng et al. (AAAI 2023): every horizon step repeats the last look-back
// value of its channel.
ErrorMetrics repeat_last_value_metrics(const WindowedSeries& series);

}  // namespace qrt::samples
