// LSTM backward through time against finite differences of a float64 LSTM: every input (x, h0,
// c0, all layers' weights and biases), with all or only some of y, h_n, c_n reaching the loss.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "ops/lstm.h"

#include "tests/train/gradients/gradient_harness.h"
#include "tests/train/gradients/reference_forward.h"

namespace qrt::testing {
namespace {

struct LstmShape {
  int64_t B, T, C, H, L;
  bool initial_state, biases;
};

GradientCase lstm_case(const LstmShape& s, uint64_t seed) {
  GradientCase c;
  c.op = ir::OpKind::kLSTM;
  const ir::LstmAttrs attrs{s.H, s.L};
  c.attrs = attrs;
  uint64_t k = seed;
  c.inputs.push_back(random_input({s.B, s.T, s.C}, k++));
  for (int i = 0; i < 2; ++i) {
    if (s.initial_state)
      c.inputs.push_back(random_input({s.L, s.B, s.H}, k++));
    else
      c.inputs.push_back(std::nullopt);
  }
  for (int64_t l = 0; l < s.L; ++l) {
    const int64_t in = l == 0 ? s.C : s.H;
    // Weights in PyTorch's init range ±1/√H keep the gates away from saturation.
    const float r = 1.0f / std::sqrt(static_cast<float>(s.H));
    c.inputs.push_back(random_input({4 * s.H, in}, k++, -r, r));
    c.inputs.push_back(random_input({4 * s.H, s.H}, k++, -r, r));
    for (int b = 0; b < 2; ++b) {
      if (s.biases)
        c.inputs.push_back(random_input({4 * s.H}, k++, -r, r));
      else
        c.inputs.push_back(std::nullopt);
    }
  }
  c.forward = [attrs](const Inputs64& in) { return lstm64(in, attrs); };
  c.seed = seed;
  return c;
}

TEST_CASE("LSTM backward matches finite differences: 2 layers, initial state, biases") {
  const uint64_t seed = 303;
  MESSAGE("seed " << seed);
  check_gradients(lstm_case({2, 5, 3, 4, 2, true, true}, seed));
}

TEST_CASE("LSTM backward matches finite differences: single step, single unit, nothing optional") {
  const uint64_t seed = 404;
  MESSAGE("seed " << seed);
  GradientCase c = lstm_case({1, 1, 1, 1, 1, false, false}, seed);
  c.zero_gradient_inputs = {4};  // w_hh only ever multiplies the zero initial state
  check_gradients(c);
}

TEST_CASE("LSTM backward matches finite differences: 3 layers, only some outputs reach the loss") {
  const uint64_t seed = 505;
  MESSAGE("seed " << seed);
  GradientCase only_states = lstm_case({3, 2, 2, 2, 3, true, true}, seed);
  only_states.output_grad_absent = {true, false, false};  // h_n and c_n only
  check_gradients(only_states);
  GradientCase only_y = lstm_case({2, 7, 5, 3, 1, true, false}, seed + 50);
  only_y.output_grad_absent = {false, true, true};
  check_gradients(only_y);
  GradientCase only_c = lstm_case({1, 3, 2, 3, 2, true, true}, seed + 100);
  only_c.output_grad_absent = {true, true, false};
  check_gradients(only_c);
}

// hidden_fake_quant: rounding has no finite differences, but its straight-through gradient is the
// exact gradient of the same LSTM with each rounding replaced by adding a constant, the offset
// round(h) - h the rounding applied at the evaluated point. Both forwards agree there, and the
// frozen-offset one is smooth, so finite differences of it check the backward (dW_hh and the
// layer above's dW_ih must use the rounded h, dh must pass through the rounding unchanged).
TEST_CASE("LSTM backward with hidden_fake_quant: straight through the rounding") {
  const uint64_t seed = 606;
  MESSAGE("seed " << seed);
  GradientCase c = lstm_case({2, 4, 3, 5, 2, true, true}, seed);
  ir::LstmAttrs attrs = std::get<ir::LstmAttrs>(c.attrs);
  attrs.hidden_fake_quant = true;
  c.attrs = attrs;

  Inputs64 base;
  for (const auto& input : c.inputs) {
    if (!input) {
      base.push_back(std::nullopt);
      continue;
    }
    base.push_back(Tensor64{input->first, {input->second.begin(), input->second.end()}});
  }
  auto offsets = std::make_shared<std::vector<double>>();
  double tie_margin = 0.5;  // in codes: float and float64 h must round alike
  lstm64(base, attrs, [&](double h) {
    const double codes = h * 127.0;
    tie_margin = std::fmin(tie_margin, std::fabs(std::fabs(codes - std::floor(codes)) - 0.5));
    const auto f = static_cast<float>(h);
    float rounded = 0.0f;
    ops::lstm_hidden_fake_quant(1, 1, &f, 1, &rounded);
    offsets->push_back(double{rounded} - h);
    return double{rounded};
  });
  REQUIRE_MESSAGE(tie_margin > 1e-3, "a hidden state lies " << tie_margin << " codes from a tie");
  double largest_offset = 0.0;
  for (double o : *offsets) largest_offset = std::fmax(largest_offset, std::fabs(o));
  CHECK(largest_offset > 0.25 / 127);  // the rounding moves values: the check can tell it apart

  c.forward = [attrs, offsets](const Inputs64& in) {
    std::size_t next = 0;
    return lstm64(in, attrs, [&](double h) { return h + (*offsets)[next++]; });
  };
  check_gradients(c);
}

}  // namespace
}  // namespace qrt::testing
