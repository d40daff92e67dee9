// LayerNorm backward against finite differences of a float64 LayerNorm.
#include <doctest/doctest.h>

#include "tests/train/gradients/gradient_harness.h"
#include "tests/train/gradients/reference_forward.h"

namespace qrt::testing {
namespace {

GradientCase layer_norm_case(ir::Shape x, bool affine, float eps, uint64_t seed, float lo = -1.0f,
                             float hi = 1.0f) {
  GradientCase c;
  c.op = ir::OpKind::kLayerNorm;
  const ir::LayerNormAttrs attrs{eps};
  c.attrs = attrs;
  const int64_t D = x.back();
  c.inputs.push_back(random_input(std::move(x), seed, lo, hi));
  if (affine) {
    c.inputs.push_back(random_input({D}, seed + 1, 0.5f, 1.5f));
    c.inputs.push_back(random_input({D}, seed + 2));
  }
  c.forward = [attrs](const Inputs64& in) { return layer_norm64(in, attrs); };
  c.seed = seed;
  return c;
}

TEST_CASE("LayerNorm backward matches finite differences") {
  const uint64_t seed = 606;
  MESSAGE("seed " << seed);
  check_gradients(layer_norm_case({3, 7}, true, 1e-5f, seed));
  check_gradients(layer_norm_case({1, 1, 5}, false, 1e-5f, seed + 10));
  check_gradients(layer_norm_case({2, 3, 13}, true, 0.1f, seed + 20));
  check_gradients(layer_norm_case({1, 2}, true, 1e-5f, seed + 30));
  // |mean| >> std: the recomputed statistics must not cancel.
  check_gradients(layer_norm_case({4, 11}, true, 1e-5f, seed + 40, 100.0f, 101.0f));
}

}  // namespace
}  // namespace qrt::testing
