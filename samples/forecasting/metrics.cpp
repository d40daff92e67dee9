#include "samples/forecasting/metrics.h"

#include <cmath>
#include <vector>

namespace qrt::samples {

void ErrorAccumulator::add(const float* prediction, const float* target, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const double d = static_cast<double>(prediction[i]) - static_cast<double>(target[i]);
    squared_ += d * d;
    absolute_ += std::abs(d);
  }
  values_ += count;
}

ErrorMetrics ErrorAccumulator::result() const {
  if (values_ == 0) return {0.0, 0.0, windows_};
  const double n = static_cast<double>(values_);
  return {squared_ / n, absolute_ / n, windows_};
}

ErrorMetrics repeat_last_value_metrics(const WindowedSeries& series) {
  const int64_t horizon = series.horizon();
  std::vector<float> forecast(static_cast<std::size_t>(horizon) * kEttChannels);
  ErrorAccumulator errors;
  for (int64_t w = 0; w < series.window_count(); ++w) {
    const float* last = series.input(w) + (series.lookback() - 1) * kEttChannels;
    for (int64_t t = 0; t < horizon; ++t) {
      for (int c = 0; c < kEttChannels; ++c) forecast[t * kEttChannels + c] = last[c];
    }
    errors.add(forecast.data(), series.target(w), horizon * kEttChannels);
    errors.count_window();
  }
  return errors.result();
}

}  // namespace qrt::samples
