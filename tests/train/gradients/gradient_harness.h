// Checks a backward kernel against central finite differences of a float64 forward written in the
// test. One op at a time: the harness builds a one-node graph, computes the forward outputs in
// float64 (rounded to f32 for the kernel), draws a random upstream gradient dy for each output,
// runs qrt::train::backward, and differentiates L = Σ_outputs Σ dy ⊙ y numerically.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "train/op_gradient.h"

namespace qrt::testing {

// A float64 tensor; absent optional inputs are std::nullopt in the lists below.
struct Tensor64 {
  ir::Shape shape;
  std::vector<double> data;
};
using Inputs64 = std::vector<std::optional<Tensor64>>;
// The op's forward in float64: outputs (shapes and data) from the inputs.
using Forward64 = std::function<std::vector<Tensor64>(const Inputs64&)>;

struct GradientCase {
  ir::OpKind op = ir::OpKind::kRelu;
  ir::Attrs attrs;
  // Input values (f32, rounded once; the float64 forward sees the same numbers). nullopt: absent.
  std::vector<std::optional<std::pair<ir::Shape, std::vector<float>>>> inputs;
  Forward64 forward;
  uint64_t seed = 0;  // for the upstream gradients and the accumulation prefill
  // Outputs whose gradient is left absent (does not reach the loss).
  std::vector<bool> output_grad_absent;
  // Inputs whose gradient is exactly zero by construction (w_hh of a one-step LSTM without h0):
  // checked against the numerical gradient but exempt from the "not trivially zero" guard.
  std::vector<std::size_t> zero_gradient_inputs;
};

// Float tolerance of the analytic f32 gradient against the float64 central difference, relative to
// the largest |numerical gradient| of that input. The kernels round every intermediate to f32
// (2^-24 ≈ 6e-8 relative) and sum at most a few hundred terms here, so their error stays near
// 1e-6 of the gradient's scale; 1e-3 leaves room for cancellation, while a wrong formula (a sign,
// a missing term, a wrong index) shows as an error of order 1.
inline constexpr double kFiniteDifferenceTolerance = 1e-3;

// Runs the whole check (with doctest CHECKs): for every present input, the analytic gradient
// matches the numerical one; the numerical gradient is not trivially zero; running backward into
// buffers prefilled with random values adds exactly the same gradient (+= semantics).
void check_gradients(const GradientCase& c);

// Random f32 values with the given shape, uniform in [lo, hi).
std::pair<ir::Shape, std::vector<float>> random_input(ir::Shape shape, uint64_t seed,
                                                      float lo = -1.0f, float hi = 1.0f);

// A one-node graph for `op` with `n_inputs` inputs (absent where `present` is false) and
// `n_outputs` outputs; values are named "in<i>" / "out<i>", the node "node".
ir::Graph one_node_graph(ir::OpKind op, ir::Attrs attrs, const std::vector<bool>& present,
                         std::size_t n_outputs);

}  // namespace qrt::testing
