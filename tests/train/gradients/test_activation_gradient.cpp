// Backward of every activation in ir/ops.def against finite differences of its float64 forward.
#include <doctest/doctest.h>

#include <cmath>

#include "tests/support/random.h"
#include "tests/train/gradients/gradient_harness.h"
#include "tests/train/gradients/reference_forward.h"

namespace qrt::testing {
namespace {

GradientCase activation_case(ir::OpKind op, ir::Attrs attrs, ir::Shape x, uint64_t seed) {
  GradientCase c;
  c.op = op;
  c.attrs = attrs;
  // [-3, 3) covers the curved parts of Gelu/Silu/Sigmoid/Tanh and both sides of the kinks; the
  // chance that x lies within the 1e-6 difference step of Relu's kink at 0 is negligible.
  c.inputs.push_back(random_input(std::move(x), seed, -3.0f, 3.0f));
  c.forward = [op, attrs](const Inputs64& in) { return activation64(in, op, attrs); };
  c.seed = seed;
  return c;
}

TEST_CASE("Activation backward matches finite differences") {
  const uint64_t seed = 707;
  MESSAGE("seed " << seed);
  const std::pair<ir::OpKind, ir::Attrs> ops[] = {
      {ir::OpKind::kRelu, ir::NoAttrs{}},        {ir::OpKind::kLeakyRelu, ir::LeakyReluAttrs{0.2f}},
      {ir::OpKind::kGelu, ir::GeluAttrs{false}}, {ir::OpKind::kGelu, ir::GeluAttrs{true}},
      {ir::OpKind::kSilu, ir::NoAttrs{}},        {ir::OpKind::kSigmoid, ir::NoAttrs{}},
      {ir::OpKind::kTanh, ir::NoAttrs{}},
  };
  uint64_t s = seed;
  for (const auto& [op, attrs] : ops) {
    check_gradients(activation_case(op, attrs, {3, 7}, s++));
    check_gradients(activation_case(op, attrs, {1}, s++ + 100));
  }
}

TEST_CASE("Sigmoid and Tanh backward recompute from x when the output is not given") {
  const uint64_t seed = 808;
  MESSAGE("seed " << seed);
  for (ir::OpKind op : {ir::OpKind::kSigmoid, ir::OpKind::kTanh}) {
    const auto [shape, x] = random_input({2, 5}, seed, -3.0f, 3.0f);
    const std::vector<float> dy = random_input({2, 5}, seed + 1).second;
    const ir::Graph g = one_node_graph(op, ir::NoAttrs{}, {true}, 1);
    std::vector<float> y(10), with_y(10, 0.0f), without_y(10, 0.0f);
    for (int i = 0; i < 10; ++i)
      y[i] = op == ir::OpKind::kTanh ? std::tanh(x[i]) : 1.0f / (1.0f + std::exp(-x[i]));
    const runtime::ConstTensorView in[] = {{ir::DType::kF32, shape, x.data()}};
    const runtime::ConstTensorView dout[] = {{ir::DType::kF32, shape, dy.data()}};
    for (bool give_y : {true, false}) {
      const runtime::ConstTensorView out[] = {
          {ir::DType::kF32, shape, give_y ? y.data() : nullptr}};
      std::vector<float>& dx = give_y ? with_y : without_y;
      const runtime::TensorView din[] = {{ir::DType::kF32, shape, dx.data()}};
      const Status s = train::backward({g, g.nodes[0], in, out, dout, din});
      REQUIRE_MESSAGE(s.is_ok(), s.to_string());
    }
    // Same formula on y computed two ways (std:: here, ops/activation_math.h in the kernel).
    constexpr float kTolerance = 1e-6f;
    CHECK(max_abs(with_y) > 0.01f);
    CHECK(max_abs_diff(with_y, without_y) <= kTolerance);
  }
}

}  // namespace
}  // namespace qrt::testing
