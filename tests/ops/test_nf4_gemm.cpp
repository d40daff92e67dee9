// Every NF4 GEMM implementation this CPU can run must agree with an independent float64
// computation within the worst-case error of a K-term float dot product.
#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "ir/quant_formats.h"
#include "ops/cpu_features.h"
#include "ops/nf4_gemm.h"
#include "ops/nf4_gemm_kernels.h"
#include "tests/support/random.h"

namespace qrt::ops {
namespace {

// A random NF4 weight built directly from codes (independent of the quantizer under test).
struct Nf4Weight {
  std::vector<uint8_t> codes;  // [N, K], one code per element, for the float64 check
  std::vector<uint8_t> packed;
  std::vector<float> absmax;  // [N, K / block]
};

Nf4Weight random_weight(std::size_t n, std::size_t k, std::size_t block, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> code(0, 15);
  std::uniform_real_distribution<float> scale(0.05f, 3.0f);
  Nf4Weight w;
  w.codes.resize(n * k);
  for (auto& c : w.codes) c = static_cast<uint8_t>(code(rng));
  w.packed.resize(n * k / 2);
  for (std::size_t i = 0; i < w.packed.size(); ++i) {
    w.packed[i] =
        static_cast<uint8_t>((w.codes[2 * i] << ir::kNF4HighNibbleShift) | w.codes[2 * i + 1]);
  }
  w.absmax.resize(n * (k / block));
  for (auto& s : w.absmax) s = scale(rng);
  return w;
}

struct Expected {
  std::vector<double> y;
  std::vector<double> magnitude;  // Σ_k |x·w| + |bias|: scales the rounding-error bound
};

Expected float64_product(const std::vector<float>& x, const Nf4Weight& w,
                         const std::vector<float>& bias, std::size_t m, std::size_t n,
                         std::size_t k, std::size_t block) {
  Expected e{std::vector<double>(m * n), std::vector<double>(m * n)};
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      double s = bias[j], mag = std::fabs(bias[j]);
      for (std::size_t p = 0; p < k; ++p) {
        // The weight is the float product codebook·absmax, as dequantize_nf4 defines it.
        const float wv =
            ir::kNF4Codebook[w.codes[j * k + p]] * w.absmax[j * (k / block) + p / block];
        s += double{x[i * k + p]} * double{wv};
        mag += std::fabs(double{x[i * k + p]} * double{wv});
      }
      e.y[i * n + j] = s;
      e.magnitude[i * n + j] = mag;
    }
  }
  return e;
}

// Worst-case error of summing K float products in any order: (K + 2)·u·Σ|x·w|, u = 2^-24 the unit
// roundoff (Higham, "Accuracy and Stability of Numerical Algorithms", eq. 3.5; +2 for the bias add
// and the final rounding). Derived from K, so large K are not held to a small-K tolerance.
double error_bound(std::size_t k, double magnitude) {
  const double unit_roundoff = std::ldexp(1.0, -24);
  return static_cast<double>(k + 2) * unit_roundoff * magnitude;
}

struct Case {
  std::size_t m, n, k, block;
};

void check(const char* name, const Case& c, uint64_t seed, std::size_t threads,
           void (*run)(const Nf4GemmArgs&, std::size_t, const void*), const void* ctx) {
  INFO(std::string(name) << " M=" << c.m << " N=" << c.n << " K=" << c.k << " block=" << c.block
                         << " seed=" << seed << " threads=" << threads);
  const auto x = testing::random_normal(c.m * c.k, seed);
  const auto w = random_weight(c.n, c.k, c.block, seed + 1);
  const auto bias = testing::random_floats(c.n, seed + 2);
  const auto expected = float64_product(x, w, bias, c.m, c.n, c.k, c.block);
  std::vector<float> y(c.m * c.n, std::numeric_limits<float>::quiet_NaN());
  run(Nf4GemmArgs{x.data(), c.m, w.packed.data(), w.absmax.data(), c.n, c.k, c.block, bias.data(),
                  y.data()},
      threads, ctx);
  std::size_t bad = 0;
  double worst = 0.0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double err = std::fabs(double{y[i]} - expected.y[i]);
    if (!(err <= error_bound(c.k, expected.magnitude[i]))) ++bad;
    worst = std::max(worst, err);
  }
  INFO("largest error " << worst);
  CHECK(bad == 0);
}

const Case kCases[] = {{1, 1, 32, 32},     {1, 7, 64, 64},    {2, 3, 96, 32},    {5, 13, 128, 64},
                       {4, 4, 4096, 4096}, {7, 17, 256, 128}, {1, 64, 4096, 64}, {13, 11, 320, 64},
                       {3, 67, 1024, 256}, {17, 2, 2048, 64}, {33, 5, 64, 32}};

void run_implementation(const Nf4GemmArgs& args, std::size_t threads, const void* ctx) {
  run_nf4_gemm(*static_cast<const Nf4GemmImplementation*>(ctx), args, threads);
}

TEST_CASE("every supported NF4 GEMM implementation matches a float64 product") {
  uint64_t seed = 4242;
  std::size_t tested = 0;
  for (const auto& impl : nf4_gemm_implementations()) {
    if (!impl.supported(cpu_features())) {
      MESSAGE("skipping " << std::string(impl.name) << ": not supported on this CPU");
      continue;
    }
    ++tested;
    MESSAGE("testing " << std::string(impl.name));
    for (const auto& c : kCases) {
      check(impl.name, c, ++seed, 1, &run_implementation, &impl);
      check(impl.name, c, ++seed, 2, &run_implementation, &impl);
    }
  }
  CHECK(tested >= 1);
}

TEST_CASE("the public entry points match a float64 product") {
  MESSAGE("nf4_gemm_f32 uses " << std::string(nf4_gemm_implementation()));
  const auto public_entry = [](const Nf4GemmArgs& a, std::size_t, const void*) {
    nf4_gemm_f32(a.x, a.m, a.packed, a.absmax, a.n, a.k, a.block_size, a.bias, a.y);
  };
  const auto reference_entry = [](const Nf4GemmArgs& a, std::size_t, const void*) {
    nf4_gemm_f32_reference(a.x, a.m, a.packed, a.absmax, a.n, a.k, a.block_size, a.bias, a.y);
  };
  check("nf4_gemm_f32", {37, 129, 512, 64}, 99, 2, public_entry, nullptr);
  check("nf4_gemm_f32_reference", {37, 129, 512, 64}, 100, 1, reference_entry, nullptr);
}

TEST_CASE("a null bias adds nothing") {
  const Case c{3, 5, 128, 64};
  const uint64_t seed = 7;
  MESSAGE("seed " << seed);
  const auto x = testing::random_normal(c.m * c.k, seed);
  const auto w = random_weight(c.n, c.k, c.block, seed + 1);
  const std::vector<float> zeros(c.n, 0.0f);
  std::vector<float> with_zero_bias(c.m * c.n), without(c.m * c.n);
  nf4_gemm_f32(x.data(), c.m, w.packed.data(), w.absmax.data(), c.n, c.k, c.block, zeros.data(),
               with_zero_bias.data());
  nf4_gemm_f32(x.data(), c.m, w.packed.data(), w.absmax.data(), c.n, c.k, c.block, nullptr,
               without.data());
  CHECK(testing::max_abs(without) > 0.0f);
  CHECK(with_zero_bias == without);
}

TEST_CASE("invalid block sizes produce NaN instead of reading out of bounds") {
  const std::size_t m = 2, n = 3, k = 96;
  const std::vector<float> x(m * k, 1.0f), absmax(n * 3, 1.0f);
  const std::vector<uint8_t> packed(n * k / 2, 0x77);
  for (const std::size_t block : {std::size_t{0}, std::size_t{48}, std::size_t{64}}) {
    INFO("block " << block);  // 0 and 48 are not NF4 block sizes; 64 does not divide K = 96
    std::vector<float> y(m * n, 0.0f);
    nf4_gemm_f32(x.data(), m, packed.data(), absmax.data(), n, k, block, nullptr, y.data());
    for (const float v : y) CHECK(std::isnan(v));
  }
}

}  // namespace
}  // namespace qrt::ops
