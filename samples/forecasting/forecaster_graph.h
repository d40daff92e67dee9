// The forecasting sample's model built in C++ (no PyTorch): the same graph as train.py's
// Forecaster exported by frontends/pytorch (same value and node names, ops, shapes and attributes,
// in the same order), with PyTorch's default initialisation drawn from a seed, ready for
// train::Trainer.
//
//   x [B, L, 7] -> last = x[:, -1:], z = x - last
//     linear branch: Linear(L, H) over time per channel
//     LSTM branch:   LSTM(7, hidden, layers) -> last step -> LayerNorm -> Linear(hidden, hidden)
//                    -> GELU -> Linear(hidden, H * 7) -> reshape [B, H, 7]
//   forecast = linear branch + LSTM branch + last
#pragma once

#include <cstdint>

#include "ir/graph.h"
#include "ir/status.h"

namespace qrt::samples {

struct ForecasterShape {
  int64_t lookback = 96;
  int64_t horizon = 96;
  int64_t hidden = 128;
  int64_t layers = 2;
};

// The untrained forecaster; its weights are PyTorch's defaults (train/initialize.h) from `seed`.
// Fails, naming the field, when a size is < 1.
Result<ir::Graph> build_forecaster(const ForecasterShape& shape, uint64_t seed);

}  // namespace qrt::samples
