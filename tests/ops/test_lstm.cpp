// LSTM (PyTorch nn.LSTM, batch_first, gates i, f, g, o) against hand values and a float64
// reference.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "ops/lstm_cell.h"
#include "tests/ops/op_harness.h"
#include "tests/support/random.h"

namespace qrt::testing {
namespace {

// |h| < 1 and the gate pre-activations are sums of at most ~40 products of magnitude < 1, so float
// rounding puts ~1e-6 on each gate; σ and tanh have slope <= 1 and the sequences here are short, so
// the outputs stay within a few 1e-6 of the float64 reference. 2e-5 leaves a 5-10x margin.
constexpr float kLstmTol = 2e-5f;

struct LayerWeights {
  HostTensor w_ih, w_hh;
  std::optional<HostTensor> b_ih, b_hh;
};

struct LstmProblem {
  int64_t B, T, C, H;
  HostTensor x;
  std::optional<HostTensor> h0, c0;
  std::vector<LayerWeights> layers;
  bool hidden_fake_quant = false;
};

OpCase lstm_case(const LstmProblem& p) {
  const auto L = static_cast<int64_t>(p.layers.size());
  OpCase c{ir::OpKind::kLSTM, ir::LstmAttrs{p.H, L, p.hidden_fake_quant}, {p.x, p.h0, p.c0}, {}};
  for (const LayerWeights& lw : p.layers) {
    c.inputs.push_back(lw.w_ih);
    c.inputs.push_back(lw.w_hh);
    c.inputs.push_back(lw.b_ih);
    c.inputs.push_back(lw.b_hh);
  }
  c.output_shapes = {{p.B, p.T, p.H}, {L, p.B, p.H}, {L, p.B, p.H}};
  return c;
}

double sigmoid_ref(double v) {
  return 1.0 / (1.0 + std::exp(-v));
}

// The hidden-state fake quant written from its definition: h on the int8 grid of step 1/127,
// round half to even, codes within ±127. `tie_margin` tracks how close any h came to a rounding
// boundary (in codes), since float and float64 may round differently there.
double hidden_grid(double h, double& tie_margin) {
  const double v = h * 127.0;
  tie_margin = std::fmin(tie_margin, std::fabs(std::fabs(v - std::floor(v)) - 0.5));
  return std::clamp(std::nearbyint(v), -127.0, 127.0) / 127.0;
}

// Straightforward float64 LSTM: y, h_n, c_n. With p.hidden_fake_quant, the projections read
// h_{t-1} and the layer below's sequence through hidden_grid.
std::vector<std::vector<double>> lstm_reference(const LstmProblem& p,
                                                double* tie_margin = nullptr) {
  const int64_t B = p.B, T = p.T, H = p.H, L = static_cast<int64_t>(p.layers.size());
  std::vector<double> seq(p.x.data.begin(), p.x.data.end());  // [B, T, In]
  int64_t in = p.C;
  std::vector<double> h_n(L * B * H), c_n(L * B * H);
  double margin = 0.5;
  auto read = [&](double h) { return p.hidden_fake_quant ? hidden_grid(h, margin) : h; };
  for (int64_t l = 0; l < L; ++l) {
    const LayerWeights& lw = p.layers[l];
    if (l > 0)
      for (double& v : seq) v = read(v);
    std::vector<double> out(B * T * H);
    for (int64_t b = 0; b < B; ++b) {
      std::vector<double> h(H), c(H);
      for (int64_t j = 0; j < H; ++j) {
        h[j] = p.h0 ? p.h0->data[(l * B + b) * H + j] : 0.0;
        c[j] = p.c0 ? p.c0->data[(l * B + b) * H + j] : 0.0;
      }
      for (int64_t t = 0; t < T; ++t) {
        std::vector<double> gate(4 * H), h_read(H);
        for (int64_t k = 0; k < H; ++k) h_read[k] = read(h[k]);
        for (int64_t r = 0; r < 4 * H; ++r) {
          double s = (lw.b_ih ? lw.b_ih->data[r] : 0.0) + (lw.b_hh ? lw.b_hh->data[r] : 0.0);
          for (int64_t k = 0; k < in; ++k)
            s += double(lw.w_ih.data[r * in + k]) * seq[(b * T + t) * in + k];
          for (int64_t k = 0; k < H; ++k) s += double(lw.w_hh.data[r * H + k]) * h_read[k];
          gate[r] = s;
        }
        for (int64_t j = 0; j < H; ++j) {
          const double i = sigmoid_ref(gate[j]), f = sigmoid_ref(gate[H + j]);
          const double g = std::tanh(gate[2 * H + j]), o = sigmoid_ref(gate[3 * H + j]);
          c[j] = f * c[j] + i * g;
          h[j] = o * std::tanh(c[j]);
          out[(b * T + t) * H + j] = h[j];
        }
      }
      for (int64_t j = 0; j < H; ++j) {
        h_n[(l * B + b) * H + j] = h[j];
        c_n[(l * B + b) * H + j] = c[j];
      }
    }
    seq = out;
    in = H;
  }
  if (tie_margin != nullptr) *tie_margin = margin;
  return {seq, h_n, c_n};
}

void check_against_reference(const LstmProblem& p) {
  auto got = run_cpu_op(lstm_case(p));
  REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
  double tie_margin = 0.5;
  const auto ref = lstm_reference(p, &tie_margin);
  // Farther from a rounding boundary than float error reaches (~1e-6 · 127): both round alike.
  REQUIRE_MESSAGE(tie_margin > 1e-3,
                  "a hidden state lies " << tie_margin << " codes from a rounding boundary");
  const char* names[] = {"y", "h_n", "c_n"};
  for (int o = 0; o < 3; ++o) {
    REQUIRE((*got)[o].size() == ref[o].size());
    double max_err = 0.0;
    for (std::size_t i = 0; i < ref[o].size(); ++i)
      max_err = std::fmax(max_err, std::fabs((*got)[o][i] - ref[o][i]));
    for (float v : (*got)[o]) REQUIRE(std::isfinite(v));  // fmax above would skip a NaN
    INFO("output " << names[o] << " max error " << max_err);
    CHECK(max_err <= kLstmTol);
  }
}

TEST_CASE("LSTM: hand-computed single unit, zero recurrent weights") {
  // H = 1, W_ih = [0, 0, 1, 0] (only g sees x), W_hh = 0, no biases, no h0/c0:
  // i = f = o = σ(0) = 1/2, g_t = tanh(x_t);  c_t = c_{t-1}/2 + tanh(x_t)/2,  h_t = tanh(c_t)/2.
  LstmProblem p{1,
                2,
                1,
                1,
                HostTensor{{1, 2, 1}, {1.0f, 2.0f}},
                std::nullopt,
                std::nullopt,
                {{HostTensor{{4, 1}, {0, 0, 1, 0}}, HostTensor{{4, 1}, {0, 0, 0, 0}}, {}, {}}}};
  auto got = run_cpu_op(lstm_case(p));
  REQUIRE(got.is_ok());
  const double c1 = 0.5 * std::tanh(1.0);
  const double c2 = 0.5 * c1 + 0.5 * std::tanh(2.0);
  const double h1 = 0.5 * std::tanh(c1), h2 = 0.5 * std::tanh(c2);
  CHECK((*got)[0][0] == doctest::Approx(h1).epsilon(1e-6));
  CHECK((*got)[0][1] == doctest::Approx(h2).epsilon(1e-6));
  CHECK((*got)[1][0] == doctest::Approx(h2).epsilon(1e-6));
  CHECK((*got)[2][0] == doctest::Approx(c2).epsilon(1e-6));
}

TEST_CASE("LSTM: hand-computed single unit with h0, c0, recurrence and biases") {
  // H = 1, W_ih = [0, 0, 1, 0], W_hh = [0, 0, 0.5, 0], b_ih = [0, 0, 0, 1], b_hh = [0, 0, 0, 1],
  // h0 = 1, c0 = 2:  i = f = 1/2, o = σ(2),  g_t = tanh(x_t + h_{t-1}/2).
  LstmProblem p{1,
                2,
                1,
                1,
                HostTensor{{1, 2, 1}, {0.5f, -1.0f}},
                HostTensor{{1, 1, 1}, {1.0f}},
                HostTensor{{1, 1, 1}, {2.0f}},
                {{HostTensor{{4, 1}, {0, 0, 1, 0}}, HostTensor{{4, 1}, {0, 0, 0.5f, 0}},
                  HostTensor{{4}, {0, 0, 0, 1}}, HostTensor{{4}, {0, 0, 0, 1}}}}};
  auto got = run_cpu_op(lstm_case(p));
  REQUIRE(got.is_ok());
  const double o = 1.0 / (1.0 + std::exp(-2.0));
  const double c1 = 0.5 * 2.0 + 0.5 * std::tanh(0.5 + 0.5 * 1.0);
  const double h1 = o * std::tanh(c1);
  const double c2 = 0.5 * c1 + 0.5 * std::tanh(-1.0 + 0.5 * h1);
  const double h2 = o * std::tanh(c2);
  CHECK((*got)[0][0] == doctest::Approx(h1).epsilon(1e-6));
  CHECK((*got)[0][1] == doctest::Approx(h2).epsilon(1e-6));
  CHECK((*got)[1][0] == doctest::Approx(h2).epsilon(1e-6));
  CHECK((*got)[2][0] == doctest::Approx(c2).epsilon(1e-6));
}

TEST_CASE("LSTM: random problems against a float64 reference") {
  struct Dims {
    int64_t L, B, T, C, H;
    bool initial_state, biases;
  };
  const Dims cases[] = {{1, 1, 1, 1, 1, false, false},
                        {1, 1, 5, 3, 4, true, true},
                        {2, 3, 7, 5, 6, true, true},
                        {3, 7, 4, 2, 3, false, false},
                        {2, 1, 1, 11, 13, true, false},
                        {3, 5, 6, 4, 5, true, true},
                        {1, 13, 3, 7, 2, false, true},
                        {2, 2, 9, 1, 17, false, true},
                        // Longer than one input-projection chunk (ops/lstm.h: 32 steps), with a
                        // partial last chunk and a second layer reading the first one's h.
                        {2, 3, 70, 5, 6, true, true},
                        {1, 2, 33, 3, 4, false, true}};
  uint64_t seed = 5000;
  for (const Dims& d : cases) {
    seed += 100;
    INFO("seed " << seed << " L " << d.L << " B " << d.B << " T " << d.T << " C " << d.C << " H "
                 << d.H << " initial state " << d.initial_state << " biases " << d.biases);
    LstmProblem p{d.B, d.T, d.C, d.H, random_tensor({d.B, d.T, d.C}, seed), {}, {}, {}};
    if (d.initial_state) {
      p.h0 = random_tensor({d.L, d.B, d.H}, seed + 1);
      p.c0 = random_tensor({d.L, d.B, d.H}, seed + 2, -2.0f, 2.0f);
    }
    for (int64_t l = 0; l < d.L; ++l) {
      const uint64_t s = seed + 10 * (l + 1);
      LayerWeights lw{random_tensor({4 * d.H, l == 0 ? d.C : d.H}, s, -0.5f, 0.5f),
                      random_tensor({4 * d.H, d.H}, s + 1, -0.5f, 0.5f),
                      {},
                      {}};
      // With biases, drop one of the two on odd layers so each absent/present mix is covered.
      if (d.biases) {
        lw.b_ih = random_tensor({4 * d.H}, s + 2);
        if (l % 2 == 0) lw.b_hh = random_tensor({4 * d.H}, s + 3);
      }
      p.layers.push_back(lw);
    }
    check_against_reference(p);
  }
}

TEST_CASE("LSTM with hidden_fake_quant: projections read h on the 1/127 grid, states unrounded") {
  // T = 37 crosses an input-projection chunk (the rounded copy then covers 32 rows, not B·T).
  for (const int64_t T : {4, 37}) {
    const uint64_t seed = 7100 + static_cast<uint64_t>(T - 4);
    MESSAGE("seed " << seed << " T " << T);
    // Large weights and h0 make the rounding change the outputs far beyond kLstmTol.
    LstmProblem p{2, T, 3, 3, random_tensor({2, T, 3}, seed), {}, {}, {}};
    p.h0 = random_tensor({2, 2, 3}, seed + 1);
    p.c0 = random_tensor({2, 2, 3}, seed + 2);
    for (int64_t l = 0; l < 2; ++l) {
      const uint64_t s = seed + 10 * (l + 1);
      LayerWeights lw{random_tensor({12, 3}, s, -2.0f, 2.0f),
                      random_tensor({12, 3}, s + 1, -2.0f, 2.0f),
                      {},
                      {}};
      lw.b_ih = random_tensor({12}, s + 2);
      p.layers.push_back(lw);
    }
    auto unrounded = run_cpu_op(lstm_case(p));
    REQUIRE(unrounded.is_ok());
    p.hidden_fake_quant = true;
    check_against_reference(p);
    auto rounded = run_cpu_op(lstm_case(p));
    REQUIRE(rounded.is_ok());
    CHECK(max_abs_diff((*rounded)[0], (*unrounded)[0]) > 100 * kLstmTol);
    // h_n is the unrounded last h_t (the top layer's equals y's last step); y is off the grid.
    for (int64_t b = 0; b < p.B; ++b)
      for (int64_t j = 0; j < p.H; ++j)
        CHECK((*rounded)[1][(p.B + b) * p.H + j] == (*rounded)[0][(b * p.T + p.T - 1) * p.H + j]);
    float off_grid = 0.0f;
    for (float h : (*rounded)[0])
      off_grid = std::fmax(off_grid, std::fabs(h * 127 - std::nearbyint(h * 127)));
    CHECK(off_grid > 0.01f);
  }
}

TEST_CASE("LSTM: prepare names the node and the bad weight") {
  LstmProblem p{2, 3, 4, 5, random_tensor({2, 3, 4}, 1), {}, {}, {}};
  p.layers.push_back({random_tensor({20, 4}, 2), random_tensor({20, 5}, 3), {}, {}});
  p.layers.push_back({random_tensor({20, 5}, 4), random_tensor({20, 4}, 5), {}, {}});
  OpCase c = lstm_case(p);
  c.node_name = "encoder_lstm";
  auto r = run_cpu_op(c);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("encoder_lstm") != std::string::npos);
  CHECK(r.status().message().find("w_hh of layer 1") != std::string::npos);
}

// The vectorized cell update against the scalar definition and a float64 evaluation: gate
// pre-activations from tiny to saturating (|z| up to 60), H not a multiple of 16, NaN propagated.
// The vector exp is within about 2 ulp, so σ and tanh agree to a few 1e-7 absolute.
constexpr float kCellTol = 1e-6f;

TEST_CASE("lstm_cell_update matches the scalar definition and float64") {
  MESSAGE("lstm_cell_update uses " << ops::lstm_cell_implementation());
  uint64_t seed = 4400;
  for (const int64_t H : {int64_t{1}, int64_t{15}, int64_t{16}, int64_t{37}, int64_t{128}}) {
    for (const float range : {1e-3f, 1.0f, 8.0f, 60.0f}) {
      ++seed;
      INFO("seed " << seed << " H " << H << " range " << range);
      const auto gx = random_floats(4 * H, seed, -range, range);
      const auto gh = random_floats(4 * H, seed + 1, -range, range);
      const auto c0 = random_floats(H, seed + 2, -2.0f, 2.0f);
      std::vector<float> c_fast = c0, c_ref = c0, h_fast(H), h_ref(H);
      ops::lstm_cell_update(gx.data(), gh.data(), c_fast.data(), h_fast.data(), H);
      ops::lstm_cell_update_reference(gx.data(), gh.data(), c_ref.data(), h_ref.data(), H);
      CHECK(max_abs(c_ref) > 0.0f);
      CHECK(max_abs_diff(c_fast, c_ref) <= kCellTol * 4);  // |c| up to ~3
      CHECK(max_abs_diff(h_fast, h_ref) <= kCellTol);
      for (int64_t j = 0; j < H; ++j) {
        auto sig = [](double z) { return 1.0 / (1.0 + std::exp(-z)); };
        auto z = [&](int64_t g) { return double{gx[g * H + j]} + double{gh[g * H + j]}; };
        const double c = sig(z(1)) * c0[j] + sig(z(0)) * std::tanh(z(2));
        CHECK(std::fabs(c_fast[j] - c) <= kCellTol * 4);
        CHECK(std::fabs(h_fast[j] - sig(z(3)) * std::tanh(c)) <= kCellTol * 2);
      }
    }
  }
  // NaN in one gate reaches c and h of that unit only.
  const int64_t H = 20;
  std::vector<float> gx(4 * H, 0.5f), gh(4 * H, -0.25f), c(H, 0.1f), h(H);
  gx[2 * H + 17] = std::nanf("");
  ops::lstm_cell_update(gx.data(), gh.data(), c.data(), h.data(), H);
  CHECK(std::isnan(c[17]));
  CHECK(std::isnan(h[17]));
  CHECK(std::isfinite(h[16]));
}

}  // namespace
}  // namespace qrt::testing
