// LayerNorm over the last dim against hand values and a float64 two-pass reference.
#include <doctest/doctest.h>

#include <cmath>

#include "tests/ops/op_harness.h"

namespace qrt::testing {
namespace {

// The kernel forms statistics in double and rounds once to float per multiply/add at the end, so
// outputs of magnitude <= ~10 are within a few float ulps (~1e-6) of the float64 reference.
constexpr double kLayerNormTol = 1e-5;

OpCase layer_norm_case(const HostTensor& x, float eps, std::optional<HostTensor> gamma,
                       std::optional<HostTensor> beta) {
  return {ir::OpKind::kLayerNorm, ir::LayerNormAttrs{eps}, {x, gamma, beta}, {x.shape}};
}

TEST_CASE("LayerNorm: hand-computed [1, 2, 3]") {
  // mean 2, biased variance (1 + 0 + 1)/3 = 2/3, so y = (x - 2)/√(2/3) = [-√1.5, 0, √1.5] (eps 0).
  const HostTensor x{{3}, {1.0f, 2.0f, 3.0f}};
  const double s = std::sqrt(1.5);
  auto plain = run_cpu_op(layer_norm_case(x, 0.0f, std::nullopt, std::nullopt));
  REQUIRE(plain.is_ok());
  CHECK((*plain)[0][0] == doctest::Approx(-s).epsilon(1e-6));
  CHECK((*plain)[0][1] == 0.0f);
  CHECK((*plain)[0][2] == doctest::Approx(s).epsilon(1e-6));

  // gamma [2, 1, 0.5], beta [0, 1, -1]: [-2√1.5, 1, 0.5√1.5 - 1].
  auto affine = run_cpu_op(layer_norm_case(x, 0.0f, HostTensor{{3}, {2.0f, 1.0f, 0.5f}},
                                           HostTensor{{3}, {0.0f, 1.0f, -1.0f}}));
  REQUIRE(affine.is_ok());
  CHECK((*affine)[0][0] == doctest::Approx(-2 * s).epsilon(1e-6));
  CHECK((*affine)[0][1] == doctest::Approx(1.0).epsilon(1e-6));
  CHECK((*affine)[0][2] == doctest::Approx(0.5 * s - 1).epsilon(1e-6));

  // eps enters under the root: [1, 3] has var 1, eps 3 -> (x - 2)/2 = [-0.5, 0.5].
  auto with_eps = run_cpu_op(
      layer_norm_case(HostTensor{{1, 2}, {1.0f, 3.0f}}, 3.0f, std::nullopt, std::nullopt));
  REQUIRE(with_eps.is_ok());
  CHECK((*with_eps)[0] == std::vector<float>{-0.5f, 0.5f});
}

TEST_CASE("LayerNorm: random shapes against a float64 reference") {
  const ir::Shape shapes[] = {{1}, {7}, {1, 2}, {5, 64}, {2, 3, 257}, {3, 1, 13}, {11, 1}};
  uint64_t seed = 300;
  for (const ir::Shape& shape : shapes) {
    for (int variant = 0; variant < 4; ++variant) {
      ++seed;
      const bool with_gamma = variant & 1, with_beta = variant & 2;
      // A large common offset on odd seeds: one-pass E[x²] - E[x]² in float would lose it all.
      const float offset = seed % 2 ? 1000.0f : 0.0f;
      INFO("seed " << seed << " shape " << ir::shape_to_string(shape) << " gamma " << with_gamma
                   << " beta " << with_beta << " offset " << offset);
      HostTensor x = random_tensor(shape, seed, -2.0f, 2.0f);
      for (float& v : x.data) v += offset;
      const int64_t D = shape.back();
      std::optional<HostTensor> gamma, beta;
      if (with_gamma) gamma = random_tensor({D}, seed + 1, 0.5f, 2.0f);
      if (with_beta) beta = random_tensor({D}, seed + 2);
      const float eps = 1e-5f;
      auto got = run_cpu_op(layer_norm_case(x, eps, gamma, beta));
      REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
      const std::vector<float>& y = (*got)[0];
      for (int64_t r = 0; r < ir::numel(shape) / D; ++r) {
        double mean = 0.0, var = 0.0;
        for (int64_t d = 0; d < D; ++d) mean += x.data[r * D + d];
        mean /= D;
        for (int64_t d = 0; d < D; ++d)
          var += (x.data[r * D + d] - mean) * (x.data[r * D + d] - mean);
        var /= D;
        for (int64_t d = 0; d < D; ++d) {
          double ref = (x.data[r * D + d] - mean) / std::sqrt(var + double(eps));
          if (gamma) ref *= gamma->data[d];
          if (beta) ref += beta->data[d];
          REQUIRE_MESSAGE(
              std::fabs(y[r * D + d] - ref) <= kLayerNormTol,
              "row " << r << " d " << d << " got " << y[r * D + d] << " expected " << ref);
        }
      }
    }
  }
}

TEST_CASE("LayerNorm: prepare names the node on a bad gamma") {
  OpCase c = layer_norm_case(random_tensor({2, 4}, 9), 1e-5f, random_tensor({3}, 10), std::nullopt);
  c.node_name = "ln_bad_gamma";
  auto r = run_cpu_op(c);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("ln_bad_gamma") != std::string::npos);
  CHECK(r.status().message().find("gamma") != std::string::npos);
}

}  // namespace
}  // namespace qrt::testing
