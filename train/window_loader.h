// Batches of forecasting windows for training and evaluation: x [B, L, 7] look-back rows and
// y [B, H, 7] targets of stride-1 windows of a WindowedSeries (train/ett_data.h), every window
// once per epoch (no drop_last), in a fresh seeded order per epoch when shuffling.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "ir/status.h"
#include "runtime/tensor.h"
#include "train/ett_data.h"

namespace qrt::train {

class WindowLoader {
 public:
  // `series` must outlive the loader. Fails on batch < 1 or a series without windows.
  static Result<WindowLoader> make(const WindowedSeries& series, int64_t batch, bool shuffle,
                                   uint64_t seed);

  // Draws the next epoch's order (a permutation from the seeded RNG, or 0..n-1 without shuffling).
  void start_epoch();
  int64_t window_count() const { return static_cast<int64_t>(order_.size()); }
  int64_t batch_count() const { return (window_count() + batch_ - 1) / batch_; }
  // Rows in batch `index` (the last may be short).
  int64_t batch_rows(int64_t index) const;
  // Fills x [b, L, 7] and y [b, H, 7] with batch `index` of the current epoch, reallocating them
  // when b changes.
  Status load(int64_t index, runtime::Tensor& x, runtime::Tensor& y) const;
  // The window indices of the current epoch, in order.
  const std::vector<int64_t>& order() const { return order_; }

 private:
  WindowLoader(const WindowedSeries& series, int64_t batch, bool shuffle, uint64_t seed);
  const WindowedSeries* series_;
  int64_t batch_;
  bool shuffle_;
  std::mt19937_64 rng_;
  std::vector<int64_t> order_;
};

}  // namespace qrt::train
