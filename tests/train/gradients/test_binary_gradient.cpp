// Add / Sub / Mul backward with broadcasting against finite differences: gradients of broadcast
// operands are summed over the stretched dims.
#include <doctest/doctest.h>

#include "tests/support/random.h"
#include "tests/train/gradients/gradient_harness.h"
#include "tests/train/gradients/reference_forward.h"

namespace qrt::testing {
namespace {

TEST_CASE("Add/Sub/Mul backward with broadcasting matches finite differences") {
  const uint64_t seed = 909;
  MESSAGE("seed " << seed);
  const std::pair<ir::Shape, ir::Shape> pairs[] = {
      {{2, 7, 3}, {2, 1, 3}},  // [B,T,C] with [B,1,C]
      {{5}, {3, 2, 5}},        // [C] with [B,T,C]
      {{3, 2, 5}, {}},         // a scalar
      {{4, 1, 3}, {5, 1}},     // both stretched
      {{13, 11}, {13, 11}},    // no broadcasting
      {{1}, {1}},
      {{3, 1, 1, 2, 1}, {1, 4, 1, 3}},  // rank 5
  };
  uint64_t s = seed;
  for (ir::OpKind op : {ir::OpKind::kAdd, ir::OpKind::kSub, ir::OpKind::kMul})
    for (const auto& [a, b] : pairs) {
      INFO("a " << ir::shape_to_string(a) << ", b " << ir::shape_to_string(b));
      GradientCase c;
      c.op = op;
      c.attrs = ir::NoAttrs{};
      c.inputs = {random_input(a, s), random_input(b, s + 1)};
      c.forward = [op](const Inputs64& in) { return binary64(in, op); };
      c.seed = s;
      s += 7;
      check_gradients(c);
    }
}

// y = x·x with one value as both operands: the caller passes the same gradient buffer twice and
// must get both contributions, dx = 2·x·dy.
TEST_CASE("Mul backward of x·x accumulates both operands into one buffer") {
  const uint64_t seed = 1001;
  MESSAGE("seed " << seed);
  const ir::Shape shape{3, 5};
  const std::vector<float> x = random_floats(15, seed);
  const std::vector<float> dy = random_floats(15, seed + 1);
  std::vector<float> y(15), dx(15, 0.0f);
  for (int i = 0; i < 15; ++i) y[i] = x[i] * x[i];
  ir::Graph g = one_node_graph(ir::OpKind::kMul, ir::NoAttrs{}, {true, true}, 1);
  g.nodes[0].inputs = {0, 0};
  const runtime::ConstTensorView in[] = {{ir::DType::kF32, shape, x.data()},
                                         {ir::DType::kF32, shape, x.data()}};
  const runtime::ConstTensorView out[] = {{ir::DType::kF32, shape, y.data()}};
  const runtime::ConstTensorView dout[] = {{ir::DType::kF32, shape, dy.data()}};
  const runtime::TensorView din[] = {{ir::DType::kF32, shape, dx.data()},
                                     {ir::DType::kF32, shape, dx.data()}};
  const Status st = train::backward({g, g.nodes[0], in, out, dout, din});
  REQUIRE_MESSAGE(st.is_ok(), st.to_string());
  std::vector<float> expected(15);
  for (int i = 0; i < 15; ++i) expected[i] = 2.0f * x[i] * dy[i];
  // Two f32 products summed vs one doubled: they differ by at most an ulp of the result.
  constexpr float kTolerance = 1e-6f;
  CHECK(max_abs(expected) > 0.01f);
  CHECK(max_abs_diff(dx, expected) <= kTolerance);
}

}  // namespace
}  // namespace qrt::testing
