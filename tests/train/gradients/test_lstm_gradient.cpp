// LSTM backward through time against finite differences of a float64 LSTM: every input (x, h0,
// c0, all layers' weights and biases), with all or only some of y, h_n, c_n reaching the loss.
#include <doctest/doctest.h>

#include <cmath>

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

}  // namespace
}  // namespace qrt::testing
