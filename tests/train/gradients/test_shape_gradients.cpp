// Reshape / Transpose / Slice / Concat backward against finite differences: each routes dy back to
// the elements of x it came from.
#include <doctest/doctest.h>

#include "tests/train/gradients/gradient_harness.h"
#include "tests/train/gradients/reference_forward.h"

namespace qrt::testing {
namespace {

GradientCase one_input_case(ir::OpKind op, ir::Attrs attrs, ir::Shape x, Forward64 forward,
                            uint64_t seed) {
  GradientCase c;
  c.op = op;
  c.attrs = std::move(attrs);
  c.inputs.push_back(random_input(std::move(x), seed));
  c.forward = std::move(forward);
  c.seed = seed;
  return c;
}

TEST_CASE("Reshape backward matches finite differences") {
  const uint64_t seed = 1101;
  MESSAGE("seed " << seed);
  check_gradients(one_input_case(
      ir::OpKind::kReshape, ir::ReshapeAttrs{{0, -1}}, {2, 3, 5},
      [](const Inputs64& in) {
        return reshape64(in, {2, 15});
      },
      seed));
  check_gradients(one_input_case(
      ir::OpKind::kReshape, ir::ReshapeAttrs{{1, 1}}, {1},
      [](const Inputs64& in) {
        return reshape64(in, {1, 1});
      },
      seed + 1));
}

TEST_CASE("Transpose backward matches finite differences") {
  const uint64_t seed = 1201;
  MESSAGE("seed " << seed);
  const std::pair<ir::Shape, std::vector<int64_t>> cases[] = {
      {{2, 3, 5}, {2, 0, 1}},
      {{1, 7}, {1, 0}},
      {{2, 3, 1, 5}, {0, 2, 3, 1}},
      {{4}, {0}},
  };
  uint64_t s = seed;
  for (const auto& [shape, perm] : cases)
    check_gradients(one_input_case(
        ir::OpKind::kTranspose, ir::TransposeAttrs{perm}, shape,
        [perm](const Inputs64& in) { return transpose64(in, perm); }, s++));
}

TEST_CASE("Slice backward matches finite differences") {
  const uint64_t seed = 1301;
  MESSAGE("seed " << seed);
  struct SliceCase {
    ir::Shape x;
    ir::SliceAttrs attrs;       // what the node holds
    ir::SliceAttrs normalized;  // the same slice with non-negative bounds, for the reference
  };
  const SliceCase cases[] = {
      {{3, 7, 2}, {1, 1, 6, 2, false}, {1, 1, 6, 2, false}},
      {{3, 7, 2}, {-2, -4, -3, 1, true}, {1, 3, 4, 1, true}},  // x[:, -4]: take one time step
      {{5}, {0, 0, INT64_MAX, 3, false}, {0, 0, 5, 3, false}},
      {{2, 11}, {1, -100, 100, 1, false}, {1, 0, 11, 1, false}},  // clamped bounds
  };
  uint64_t s = seed;
  for (const SliceCase& c : cases) {
    const ir::SliceAttrs ref = c.normalized;
    check_gradients(one_input_case(
        ir::OpKind::kSlice, c.attrs, c.x, [ref](const Inputs64& in) { return slice64(in, ref); },
        s++));
  }
}

TEST_CASE("Concat backward matches finite differences") {
  const uint64_t seed = 1401;
  MESSAGE("seed " << seed);
  const std::pair<int64_t, std::vector<ir::Shape>> cases[] = {
      {1, {{2, 1, 3}, {2, 4, 3}, {2, 2, 3}}},
      {-1, {{2, 3, 1}, {2, 3, 4}, {2, 3, 2}}},
      {0, {{1, 2, 3}, {4, 2, 3}}},
      {0, {{5}}},
  };
  uint64_t s = seed;
  for (const auto& [axis, shapes] : cases) {
    GradientCase c;
    c.op = ir::OpKind::kConcat;
    c.attrs = ir::ConcatAttrs{axis};
    for (const ir::Shape& shape : shapes) c.inputs.push_back(random_input(shape, s++));
    c.forward = [axis](const Inputs64& in) { return concat64(in, axis); };
    c.seed = s;
    check_gradients(c);
  }
}

}  // namespace
}  // namespace qrt::testing
