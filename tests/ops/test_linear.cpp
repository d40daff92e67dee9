// Linear: y[..., n] = Σ_k x[..., k]·W[n, k] + b[n], against hand values and a float64 reference.
#include <doctest/doctest.h>

#include <cmath>

#include "ops/gemm_f32.h"
#include "tests/ops/op_harness.h"
#include "tests/support/random.h"

namespace qrt::testing {
namespace {

// Unit roundoff of float. A float dot product of length K satisfies |err| <= K·u·Σ|x_k·w_k|
// (Higham, "Accuracy and Stability of Numerical Algorithms", eq. 3.5) whatever the summation order,
// so that bound (plus one rounding for the bias add) is a tolerance that cannot fail by chance.
constexpr double kUnitRoundoff = 0x1p-24;

OpCase linear_case(const HostTensor& x, const HostTensor& w, std::optional<HostTensor> b) {
  ir::Shape y = x.shape;
  y.back() = w.shape[0];
  OpCase c{ir::OpKind::kLinear, ir::LinearAttrs{}, {x, w}, {y}};
  if (b) c.inputs.push_back(*b);
  return c;
}

TEST_CASE("Linear: hand-computed 1-D input with and without bias") {
  const HostTensor x{{3}, {1.0f, 2.0f, 3.0f}};
  const HostTensor w{{2, 3}, {1.0f, 0.0f, -1.0f, 2.0f, 1.0f, 0.5f}};
  // Row 0: 1 - 3 = -2; row 1: 2 + 2 + 1.5 = 5.5.
  auto no_bias = run_cpu_op(linear_case(x, w, std::nullopt));
  REQUIRE(no_bias.is_ok());
  CHECK((*no_bias)[0] == std::vector<float>{-2.0f, 5.5f});
  auto with_bias = run_cpu_op(linear_case(x, w, HostTensor{{2}, {0.5f, -1.0f}}));
  REQUIRE(with_bias.is_ok());
  CHECK((*with_bias)[0] == std::vector<float>{-1.5f, 4.5f});
}

TEST_CASE("Linear: hand-computed 3-D input") {
  // x [2, 1, 2], W [1, 2] = [3, -1], b = [10]:  y = 3·x0 - x1 + 10.
  const HostTensor x{{2, 1, 2}, {1.0f, 2.0f, -4.0f, 0.5f}};
  auto y = run_cpu_op(linear_case(x, HostTensor{{1, 2}, {3.0f, -1.0f}}, HostTensor{{1}, {10.0f}}));
  REQUIRE(y.is_ok());
  CHECK((*y)[0] == std::vector<float>{11.0f, -2.5f});
}

TEST_CASE("Linear: random shapes against a float64 reference") {
  struct Dims {
    ir::Shape lead;  // leading dims of x
    int64_t K, N;
  };
  // Row counts cover the 4-row pass and its remainders; K·N crosses the kernel's weight block.
  const Dims cases[] = {{{}, 1, 1},     {{}, 31, 5},       {{1}, 7, 13},       {{3}, 64, 1},
                        {{4}, 5, 33},   {{5}, 257, 131},   {{2, 3, 1}, 13, 7}, {{2, 7}, 17, 11},
                        {{1, 1}, 1, 2}, {{3, 11}, 33, 29}, {{6}, 1031, 40}};
  uint64_t seed = 1000;
  for (const Dims& d : cases) {
    for (bool with_bias : {false, true}) {
      ++seed;
      ir::Shape xs = d.lead;
      xs.push_back(d.K);
      INFO("seed " << seed << " x " << ir::shape_to_string(xs) << " N " << d.N << " bias "
                   << with_bias);
      const HostTensor x = random_tensor(xs, seed);
      const HostTensor w = random_tensor({d.N, d.K}, seed + 7919);
      std::optional<HostTensor> b;
      if (with_bias) b = random_tensor({d.N}, seed + 104729);
      auto got = run_cpu_op(linear_case(x, w, b));
      REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
      const std::vector<float>& y = (*got)[0];
      const int64_t M = ir::numel(d.lead);
      REQUIRE(static_cast<int64_t>(y.size()) == M * d.N);
      for (int64_t m = 0; m < M; ++m) {
        for (int64_t n = 0; n < d.N; ++n) {
          double ref = b ? b->data[n] : 0.0, magnitude = b ? std::fabs(b->data[n]) : 0.0;
          for (int64_t k = 0; k < d.K; ++k) {
            const double p = double(x.data[m * d.K + k]) * double(w.data[n * d.K + k]);
            ref += p;
            magnitude += std::fabs(p);
          }
          const double tol = (d.K + 2) * kUnitRoundoff * magnitude;
          const float v = y[m * d.N + n];
          REQUIRE_MESSAGE(std::fabs(v - ref) <= tol,
                          "m " << m << " n " << n << " got " << v << " expected " << ref);
        }
      }
    }
  }
}

TEST_CASE("Linear: prepare names the node on bad shapes") {
  const HostTensor x{{2, 3}, std::vector<float>(6, 1.0f)};
  OpCase c = linear_case(x, HostTensor{{4, 5}, std::vector<float>(20, 1.0f)}, std::nullopt);
  c.output_shapes = {{2, 4}};
  c.node_name = "fc_bad_k";
  auto r = run_cpu_op(c);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("fc_bad_k") != std::string::npos);
  CHECK(r.status().message().find("weight") != std::string::npos);

  OpCase bad_bias = linear_case(x, HostTensor{{4, 3}, std::vector<float>(12, 1.0f)},
                                HostTensor{{3}, std::vector<float>(3, 1.0f)});
  bad_bias.node_name = "fc_bad_bias";
  auto rb = run_cpu_op(bad_bias);
  REQUIRE_FALSE(rb.is_ok());
  CHECK(rb.status().message().find("fc_bad_bias") != std::string::npos);
  CHECK(rb.status().message().find("bias") != std::string::npos);

  OpCase bad_out = linear_case(x, HostTensor{{4, 3}, std::vector<float>(12, 1.0f)}, std::nullopt);
  bad_out.output_shapes = {{2, 5}};
  CHECK_FALSE(run_cpu_op(bad_out).is_ok());
}

// gemm_xwt_f32 (AVX-512 register tiles on CPUs that have them, threads for large products) against
// its portable loops and a float64 sum: strided x / y, shapes 1, primes, K below one vector.
// Both are f32 sums of the same products in different orders: |Δ| <= K·2^-24·Σ|x·w| with room.
TEST_CASE("gemm_xwt_f32 agrees with the portable loops and float64") {
  struct Dims {
    int64_t M, N, K;
  };
  uint64_t seed = 6600;
  for (const Dims d : {Dims{1, 1, 1}, Dims{1, 512, 128}, Dims{3, 17, 7}, Dims{5, 67, 131},
                       Dims{96, 512, 7}, Dims{13, 33, 600}, Dims{64, 256, 512}}) {
    ++seed;
    INFO("seed " << seed << " M " << d.M << " N " << d.N << " K " << d.K);
    const int64_t ldx = d.K + 2, ldy = d.N + 3;
    const auto x = random_floats(d.M * ldx, seed);
    const auto w = random_floats(d.N * d.K, seed + 1);
    const auto b = random_floats(d.N, seed + 2);
    std::vector<float> fast(d.M * ldy, -7.0f), portable(d.M * ldy, -7.0f);
    ops::gemm_xwt_f32(d.M, d.N, d.K, x.data(), ldx, w.data(), b.data(), fast.data(), ldy, 2);
    ops::gemm_xwt_f32_portable(d.M, d.N, d.K, x.data(), ldx, w.data(), b.data(), portable.data(),
                               ldy);
    for (int64_t m = 0; m < d.M; ++m) {
      for (int64_t n = 0; n < d.N; ++n) {
        double exact = b[n], magnitude = std::fabs(b[n]);
        for (int64_t k = 0; k < d.K; ++k) {
          exact += double{x[m * ldx + k]} * double{w[n * d.K + k]};
          magnitude += std::fabs(double{x[m * ldx + k]} * double{w[n * d.K + k]});
        }
        const double bound = (d.K + 2) * 0x1p-24 * magnitude;
        REQUIRE(std::fabs(fast[m * ldy + n] - exact) <= bound);
        REQUIRE(std::fabs(portable[m * ldy + n] - exact) <= bound);
      }
      for (int64_t n = d.N; n < ldy; ++n) REQUIRE(fast[m * ldy + n] == -7.0f);
    }
  }
}

}  // namespace
}  // namespace qrt::testing
