#include "train/window_loader.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>

#include "train/shuffle.h"

namespace qrt::train {

WindowLoader::WindowLoader(const WindowedSeries& series, int64_t batch, bool shuffle, uint64_t seed)
    : series_(&series), batch_(batch), shuffle_(shuffle), rng_(seed) {
  order_.resize(static_cast<std::size_t>(series.window_count()));
  std::iota(order_.begin(), order_.end(), int64_t{0});
}

Result<WindowLoader> WindowLoader::make(const WindowedSeries& series, int64_t batch, bool shuffle,
                                        uint64_t seed) {
  if (batch < 1) return invalid_argument("batch size " + std::to_string(batch) + " must be >= 1");
  if (series.window_count() < 1)
    return invalid_argument("the data set has no windows (empty series)");
  return WindowLoader(series, batch, shuffle, seed);
}

void WindowLoader::start_epoch() {
  std::iota(order_.begin(), order_.end(), int64_t{0});
  if (shuffle_) shuffle_in_place(std::span<int64_t>(order_), rng_);
}

int64_t WindowLoader::batch_rows(int64_t index) const {
  const int64_t begin = index * batch_;
  return std::clamp<int64_t>(window_count() - begin, 0, batch_);
}

Status WindowLoader::load(int64_t index, runtime::Tensor& x, runtime::Tensor& y) const {
  if (index < 0 || index >= batch_count())
    return invalid_argument("batch " + std::to_string(index) + " is out of range [0, " +
                            std::to_string(batch_count()) + ")");
  const int64_t rows = batch_rows(index);
  const int64_t lookback = series_->lookback();
  const int64_t horizon = series_->horizon();
  const ir::Shape x_shape{rows, lookback, kEttChannels};
  const ir::Shape y_shape{rows, horizon, kEttChannels};
  if (x.shape() != x_shape) {
    QRT_ASSIGN_OR_RETURN(x, runtime::Tensor::allocate(ir::DType::kF32, x_shape));
  }
  if (y.shape() != y_shape) {
    QRT_ASSIGN_OR_RETURN(y, runtime::Tensor::allocate(ir::DType::kF32, y_shape));
  }
  const std::size_t x_floats = static_cast<std::size_t>(lookback) * kEttChannels;
  const std::size_t y_floats = static_cast<std::size_t>(horizon) * kEttChannels;
  float* xd = static_cast<float*>(x.data());
  float* yd = static_cast<float*>(y.data());
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t window = order_[static_cast<std::size_t>(index * batch_ + r)];
    std::memcpy(xd + r * x_floats, series_->input(window), x_floats * sizeof(float));
    std::memcpy(yd + r * y_floats, series_->target(window), y_floats * sizeof(float));
  }
  return Status::ok();
}

}  // namespace qrt::train
