// Small models for the trainer tests, built in C++ with PyTorch's default initialisation
// (uniform ±1/√fan_in for Linear weights and biases).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "frontends/builder.h"
#include "tests/support/random.h"

namespace qrt::train::testing {

inline ir::ValueId init_linear(frontends::GraphBuilder& b, const std::string& name, ir::ValueId x,
                               int64_t in, int64_t out, uint64_t seed) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(in));
  const auto w = b.constant(name + ".weight", {out, in},
                            qrt::testing::random_floats(out * in, seed, -bound, bound));
  const auto bias =
      b.constant(name + ".bias", {out}, qrt::testing::random_floats(out, seed + 1, -bound, bound));
  return b.linear(name, x, w, bias);
}

// x [B, L, 7] -> forecast [B, H, 7]: per channel, Linear(L -> hidden) -> Gelu -> Linear(hidden ->
// H) over the time axis, plus the last observed value (NLinear's level trick, as the forecaster).
// `middle_layer` adds Linear(hidden -> hidden) -> Gelu in between (a layer the default precision
// policy quantizes: it keeps the first and last in fp16).
inline Result<ir::Graph> forecasting_mlp(int64_t lookback, int64_t horizon, int64_t hidden,
                                         uint64_t seed, bool middle_layer = false) {
  frontends::GraphBuilder b;
  const auto x = b.input("x", {ir::kDynamicDim, lookback, 7});
  const auto last = b.slice("last", x, 1, lookback - 1, lookback);
  const auto z = b.binary("z", ir::OpKind::kSub, x, last);
  const auto zt = b.transpose("zt", z, {0, 2, 1});
  auto h = b.gelu("act", init_linear(b, "fc1", zt, lookback, hidden, seed));
  if (middle_layer) h = b.gelu("act_mid", init_linear(b, "fc_mid", h, hidden, hidden, seed + 5));
  const auto y = init_linear(b, "fc2", h, hidden, horizon, seed + 10);
  const auto yt = b.transpose("yt", y, {0, 2, 1});
  b.output(b.binary("forecast", ir::OpKind::kAdd, yt, last));
  return b.build();
}

// x [B, 3, 5] -> [B, 3, 4]: LayerNorm, a value used twice (residual Add and Mul) and a reshape, so
// gradients meet at values with several consumers.
inline Result<ir::Graph> branching_model(uint64_t seed) {
  frontends::GraphBuilder b;
  const auto x = b.input("x", {ir::kDynamicDim, 3, 5});
  const auto gamma =
      b.constant("norm.weight", {5}, qrt::testing::random_floats(5, seed, 0.5f, 1.5f));
  const auto beta = b.constant("norm.bias", {5}, qrt::testing::random_floats(5, seed + 1));
  const auto n = b.layer_norm("norm", x, gamma, beta);
  const auto h = b.gelu("act", init_linear(b, "fc1", n, 5, 5, seed + 2), true);
  const auto r = b.binary("res", ir::OpKind::kAdd, h, n);
  const auto m = b.binary("sq", ir::OpKind::kMul, r, h);
  const auto flat = b.reshape("flat", m, {-1, 15});
  const auto y = init_linear(b, "fc2", flat, 15, 12, seed + 4);
  b.output(b.reshape("out", y, {-1, 3, 4}));
  return b.build();
}

// x [B, T, C] -> [B, 2]: a stacked LSTM (PyTorch's init, uniform ±1/√H), its last time step,
// LayerNorm and a Linear head, the shape of the forecaster's recurrent branch.
inline Result<ir::Graph> lstm_model(int64_t channels, int64_t hidden, int64_t layers,
                                    uint64_t seed) {
  frontends::GraphBuilder b;
  const auto x = b.input("x", {ir::kDynamicDim, ir::kDynamicDim, channels});
  const float bound = 1.0f / std::sqrt(static_cast<float>(hidden));
  std::vector<frontends::GraphBuilder::LstmLayer> weights;
  for (int64_t l = 0; l < layers; ++l) {
    const int64_t in = l == 0 ? channels : hidden;
    const std::string p = "lstm.";
    const std::string s = "_l" + std::to_string(l);
    const uint64_t k = seed + 10 * static_cast<uint64_t>(l);
    weights.push_back(
        {b.constant(p + "weight_ih" + s, {4 * hidden, in},
                    qrt::testing::random_floats(4 * hidden * in, k, -bound, bound)),
         b.constant(p + "weight_hh" + s, {4 * hidden, hidden},
                    qrt::testing::random_floats(4 * hidden * hidden, k + 1, -bound, bound)),
         b.constant(p + "bias_ih" + s, {4 * hidden},
                    qrt::testing::random_floats(4 * hidden, k + 2, -bound, bound)),
         b.constant(p + "bias_hh" + s, {4 * hidden},
                    qrt::testing::random_floats(4 * hidden, k + 3, -bound, bound))});
  }
  const auto out = b.lstm("lstm", x, hidden, weights);
  const auto last = b.slice("last", out.y, 1, -1, INT64_MAX, 1, true);
  const auto gamma = b.constant("norm.weight", {hidden},
                                qrt::testing::random_floats(hidden, seed + 100, 0.5f, 1.5f));
  const auto beta =
      b.constant("norm.bias", {hidden}, qrt::testing::random_floats(hidden, seed + 101));
  const auto n = b.layer_norm("norm", last, gamma, beta);
  b.output(init_linear(b, "head", n, hidden, 2, seed + 200));
  return b.build();
}

}  // namespace qrt::train::testing
