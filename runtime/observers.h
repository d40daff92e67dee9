// Observers: running statistics of one float tensor across calibration batches, from which the
// calibration runner (runtime/calibration.h) derives the tensor's range. docs/quantization.md §4.
//
// Each observer is fed the values of one tensor, one call per batch. They hold no pointers to the
// data they saw, so the caller's buffers may be reused right after a call.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "ir/calibration_table.h"

namespace qrt::runtime {

// Index of the first NaN or infinity in `data`, or nothing when every element is finite.
std::optional<std::size_t> first_non_finite(std::span<const float> data);

// Smallest and largest value seen over all batches (PyTorch MinMaxObserver).
class MinMaxObserver {
 public:
  void observe(std::span<const float> batch);
  bool empty() const { return !seen_; }
  // [0, 0] before any non-empty batch.
  ir::TensorRange range() const;
  // max(|min|, |max|): the largest magnitude seen.
  float abs_max() const;

 private:
  bool seen_ = false;
  float min_ = 0.0f;
  float max_ = 0.0f;
};

// Moving average of the per-batch min and max (PyTorch MovingAverageMinMaxObserver with
// averaging_constant = 1 - momentum). The first non-empty batch sets the range; each later batch b
// updates  min ← momentum·min + (1 − momentum)·min_b  and likewise max. Empty batches are ignored.
class MovingAverageObserver {
 public:
  explicit MovingAverageObserver(float momentum) : momentum_(momentum) {}
  void observe(std::span<const float> batch);
  ir::TensorRange range() const;  // [0, 0] before any non-empty batch

 private:
  float momentum_;
  bool seen_ = false;
  double min_ = 0.0;
  double max_ = 0.0;
};

// Histogram of |x| over [0, abs_max] with equal-width bins (TensorRT's calibration histogram). Bin
// i covers [i·w, (i+1)·w), w = abs_max / bins; values at or above abs_max land in the last bin. The
// range must be known before the first batch, so the runner takes it from a min/max pass first.
// Counts are doubles so that hand-made (weighted) histograms can be built with from_counts.
class AbsHistogram {
 public:
  // `bins` >= 1, `abs_max` finite and > 0 (the caller checks).
  AbsHistogram(int bins, float abs_max);
  // A histogram with the given counts and bin width (tests, tools).
  static AbsHistogram from_counts(std::vector<double> counts, double bin_width);

  void observe(std::span<const float> batch);
  const std::vector<double>& counts() const { return counts_; }
  double bin_width() const { return bin_width_; }
  int bins() const { return static_cast<int>(counts_.size()); }
  double total() const;

 private:
  AbsHistogram(std::vector<double> counts, double bin_width)
      : counts_(std::move(counts)), bin_width_(bin_width) {}
  std::vector<double> counts_;
  double bin_width_ = 1.0;
};

}  // namespace qrt::runtime
