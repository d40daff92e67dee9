#include "runtime/observers.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

namespace qrt::runtime {

namespace {

// The part every range observer shares: an empty batch changes nothing, the first batch sets the
// range to its own [min, max], and later batches are merged by `merge(batch_min, batch_max)`.
template <typename T, typename Merge>
void observe_range(std::span<const float> batch, bool& seen, T& min, T& max, Merge&& merge) {
  if (batch.empty()) return;
  const auto [lo, hi] = std::minmax_element(batch.begin(), batch.end());
  if (!seen) {
    min = *lo;
    max = *hi;
    seen = true;
    return;
  }
  merge(*lo, *hi);
}

}  // namespace

std::optional<std::size_t> first_non_finite(std::span<const float> data) {
  for (std::size_t i = 0; i < data.size(); ++i)
    if (!std::isfinite(data[i])) return i;
  return std::nullopt;
}

void MinMaxObserver::observe(std::span<const float> batch) {
  observe_range(batch, seen_, min_, max_, [this](float lo, float hi) {
    min_ = std::min(min_, lo);
    max_ = std::max(max_, hi);
  });
}

ir::TensorRange MinMaxObserver::range() const {
  return {min_, max_};
}

float MinMaxObserver::abs_max() const {
  return std::max(std::fabs(min_), std::fabs(max_));
}

void MovingAverageObserver::observe(std::span<const float> batch) {
  observe_range(batch, seen_, min_, max_, [this](float lo, float hi) {
    const double m = momentum_;
    min_ = m * min_ + (1.0 - m) * static_cast<double>(lo);
    max_ = m * max_ + (1.0 - m) * static_cast<double>(hi);
  });
}

ir::TensorRange MovingAverageObserver::range() const {
  return {static_cast<float>(min_), static_cast<float>(max_)};
}

AbsHistogram::AbsHistogram(int bins, float abs_max)
    : counts_(static_cast<std::size_t>(std::max(bins, 1)), 0.0),
      bin_width_(static_cast<double>(abs_max) / std::max(bins, 1)) {}

AbsHistogram AbsHistogram::from_counts(std::vector<double> counts, double bin_width) {
  if (counts.empty()) counts.push_back(0.0);
  return AbsHistogram(std::move(counts), bin_width);
}

void AbsHistogram::observe(std::span<const float> batch) {
  const double last = static_cast<double>(counts_.size() - 1);
  for (float x : batch) {
    if (!std::isfinite(x)) continue;  // the runner rejects such data before it gets here
    // Computed in double: the index of abs_max itself is exactly `bins` and clamps to the last bin.
    const double bin = std::min(std::floor(std::fabs(static_cast<double>(x)) / bin_width_), last);
    counts_[static_cast<std::size_t>(bin)] += 1.0;
  }
}

double AbsHistogram::total() const {
  return std::accumulate(counts_.begin(), counts_.end(), 0.0);
}

}  // namespace qrt::runtime
