// Every int8 GEMM implementation this CPU can run must reproduce the reference's int32 results
// exactly (integer arithmetic has no rounding to excuse a difference).
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ops/cpu_features.h"
#include "ops/int8_gemm.h"
#include "ops/int8_gemm_kernels.h"
#include "ops/int8_gemm_packed_kernels.h"

namespace qrt::ops {
namespace {

std::vector<int8_t> random_int8(std::size_t count, uint64_t seed, int lo = -128, int hi = 127) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<int8_t> v(count);
  for (auto& x : v) x = static_cast<int8_t>(dist(rng));
  return v;
}

// Independent check of the reference on a hand-sized case: int64 accumulation in the test.
TEST_CASE("gemm_s8s8_s32_reference matches a direct int64 sum") {
  const uint64_t seed = 11;
  MESSAGE("seed " << seed);
  const std::size_t m = 3, n = 5, k = 7;
  const auto a = random_int8(m * k, seed), b = random_int8(n * k, seed + 1);
  std::vector<int32_t> acc(m * n, -1);
  gemm_s8s8_s32_reference(a.data(), k, b.data(), k, acc.data(), n, m, n, k);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      int64_t s = 0;
      for (std::size_t p = 0; p < k; ++p) s += int64_t{a[i * k + p]} * int64_t{b[j * k + p]};
      CHECK(acc[i * n + j] == s);
    }
  }
}

struct Case {
  std::size_t m, n, k;
};

void check_implementation(const Int8GemmImplementation& impl, const Case& c, uint64_t seed,
                          std::size_t threads, std::size_t padding) {
  INFO("implementation " << std::string(impl.name) << " M=" << c.m << " N=" << c.n << " K=" << c.k
                         << " seed=" << seed << " threads=" << threads << " pad=" << padding);
  // Row strides larger than K check that kernels honour lda/ldb/ldc.
  const std::size_t lda = c.k + padding, ldb = c.k + 2 * padding, ldc = c.n + padding;
  const auto a = random_int8(c.m * lda, seed), b = random_int8(c.n * ldb, seed + 1);
  std::vector<int32_t> expected(c.m * ldc, 0), actual(c.m * ldc, 0x5a5a5a5a);
  gemm_s8s8_s32_reference(a.data(), lda, b.data(), ldb, expected.data(), ldc, c.m, c.n, c.k);
  run_int8_gemm(impl, a.data(), lda, b.data(), ldb, actual.data(), ldc, c.m, c.n, c.k, threads);
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < c.m; ++i) {
    for (std::size_t j = 0; j < c.n; ++j)
      mismatches += expected[i * ldc + j] != actual[i * ldc + j];
  }
  CHECK(mismatches == 0);
}

TEST_CASE("every supported int8 GEMM implementation equals the reference exactly") {
  const Case cases[] = {{1, 1, 1},     {1, 7, 64},    {2, 3, 5},     {4, 4, 63},  {5, 13, 65},
                        {7, 17, 127},  {1, 64, 4096}, {13, 11, 129}, {63, 5, 31}, {64, 65, 200},
                        {3, 97, 1031}, {17, 2, 4096}, {33, 67, 17}};
  uint64_t seed = 2024;
  std::size_t tested = 0;
  for (const auto& impl : int8_gemm_implementations()) {
    if (!impl.supported(cpu_features())) {
      MESSAGE("skipping " << std::string(impl.name) << ": not supported on this CPU");
      continue;
    }
    ++tested;
    MESSAGE("testing " << std::string(impl.name));
    for (const auto& c : cases) {
      check_implementation(impl, c, ++seed, 1, 0);
      check_implementation(impl, c, ++seed, 2, 3);
    }
  }
  CHECK(tested >= 1);
}

// -128 · -128 in every lane is where 16-bit pair sums (vpmaddubsw) would saturate; the shifted
// VNNI path also relies on wrap-around arithmetic there. Checked against the closed form.
TEST_CASE("extreme int8 values give exact results in every implementation") {
  const std::size_t m = 5, n = 6, k = 4099;
  for (const int8_t av : {int8_t{-128}, int8_t{127}}) {
    for (const int8_t bv : {int8_t{-128}, int8_t{127}}) {
      const std::vector<int8_t> a(m * k, av), b(n * k, bv);
      const int32_t expected = static_cast<int32_t>(k) * av * bv;
      for (const auto& impl : int8_gemm_implementations()) {
        if (!impl.supported(cpu_features())) continue;
        INFO("implementation " << std::string(impl.name) << " a=" << int{av} << " b=" << int{bv});
        std::vector<int32_t> acc(m * n, 0);
        run_int8_gemm(impl, a.data(), k, b.data(), k, acc.data(), n, m, n, k, 2);
        for (const int32_t v : acc) CHECK(v == expected);
      }
    }
  }
}

TEST_CASE("the dispatcher names a supported implementation and matches the reference") {
  const std::string name = gemm_s8s8_s32_implementation();
  MESSAGE("gemm_s8s8_s32 uses " << name);
  bool found = false;
  for (const auto& impl : int8_gemm_implementations()) {
    if (name == impl.name) found = impl.supported(cpu_features());
  }
  CHECK(found);
  const uint64_t seed = 77;
  MESSAGE("seed " << seed);
  const std::size_t m = 37, n = 129, k = 515;
  const auto a = random_int8(m * k, seed), b = random_int8(n * k, seed + 1);
  std::vector<int32_t> expected(m * n), actual(m * n);
  gemm_s8s8_s32_reference(a.data(), k, b.data(), k, expected.data(), n, m, n, k);
  gemm_s8s8_s32(a.data(), k, b.data(), k, actual.data(), n, m, n, k);
  CHECK(actual == expected);
}

// Prepared weights: the VNNI kernel over PackedInt8Weights and the portable loop over the same
// layout both reproduce the reference exactly. Shapes cover one row, the narrow (<= 2 rows) and
// 6-row tiles, N not a multiple of 16 or 64, K not a multiple of 4, and K beyond one 512-byte
// slice (the partial sums that go through acc) with a partial last column block, also for the
// narrow tile (8 column blocks plus a remainder) and for 32 rows over many slices.
TEST_CASE("packed int8 GEMM equals the reference exactly") {
  const Case cases[] = {{1, 1, 1},      {1, 16, 4},    {2, 17, 5},     {3, 64, 128},
                        {7, 67, 131},   {1, 512, 128}, {6, 65, 513},   {13, 130, 600},
                        {32, 48, 1031}, {5, 1, 2049},  {1, 33, 7},     {9, 100, 64},
                        {2, 160, 1030}, {1, 145, 700}, {32, 200, 4100}};
  uint64_t seed = 3030;
  const bool vnni = std::string(gemm_s8s8_s32_packed_implementation()) == "avx512-vnni";
  MESSAGE("gemm_s8s8_s32_packed uses " << gemm_s8s8_s32_packed_implementation());
  for (const auto& c : cases) {
    for (const std::size_t pad : {std::size_t{0}, std::size_t{3}}) {
      ++seed;
      INFO("M=" << c.m << " N=" << c.n << " K=" << c.k << " pad=" << pad << " seed=" << seed);
      const std::size_t lda = c.k + pad, ldb = c.k + 2 * pad, ldc = c.n + pad;
      const auto a = random_int8(c.m * lda, seed), b = random_int8(c.n * ldb, seed + 1);
      std::vector<int32_t> expected(c.m * ldc, 0);
      gemm_s8s8_s32_reference(a.data(), lda, b.data(), ldb, expected.data(), ldc, c.m, c.n, c.k);
      const PackedInt8Weights packed = pack_int8_weights(b.data(), ldb, c.n, c.k);
      const std::size_t blocks = (c.n + kPackedColumns - 1) / kPackedColumns;
      auto compare = [&](const std::vector<int32_t>& actual, const char* what) {
        INFO(what);
        std::size_t mismatches = 0;
        for (std::size_t i = 0; i < c.m; ++i)
          for (std::size_t j = 0; j < c.n; ++j)
            mismatches += expected[i * ldc + j] != actual[i * ldc + j];
        CHECK(mismatches == 0);
        // Padding columns between rows stay untouched.
        for (std::size_t i = 0; i < c.m; ++i)
          for (std::size_t j = c.n; j < ldc; ++j) CHECK(actual[i * ldc + j] == 0x5a5a5a5a);
      };
      std::vector<int32_t> portable(c.m * ldc, 0x5a5a5a5a);
      gemm_s8s8_s32_packed_columns_portable(a.data(), lda, packed, portable.data(), ldc, c.m, 0,
                                            blocks);
      compare(portable, "portable");
      for (const std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
        std::vector<int32_t> actual(c.m * ldc, 0x5a5a5a5a);
        gemm_s8s8_s32_packed(a.data(), lda, packed, actual.data(), ldc, c.m, threads);
        compare(actual, "dispatched");
      }
      if (vnni) {
        std::vector<int32_t> actual(c.m * ldc, 0x5a5a5a5a);
        gemm_s8s8_s32_packed_columns_avx512vnni(a.data(), lda, packed, actual.data(), ldc, c.m, 0,
                                                blocks);
        compare(actual, "avx512-vnni");
      }
    }
  }
}

TEST_CASE("packed int8 GEMM: extreme values wrap back to the exact result") {
  const std::size_t m = 3, n = 20, k = 4099;
  for (const int8_t av : {int8_t{-128}, int8_t{127}}) {
    for (const int8_t bv : {int8_t{-128}, int8_t{127}}) {
      INFO("a=" << int{av} << " b=" << int{bv});
      const std::vector<int8_t> a(m * k, av), b(n * k, bv);
      const PackedInt8Weights packed = pack_int8_weights(b.data(), k, n, k);
      std::vector<int32_t> acc(m * n, 0);
      gemm_s8s8_s32_packed(a.data(), k, packed, acc.data(), n, m, 2);
      for (const int32_t v : acc) CHECK(v == static_cast<int32_t>(k) * av * bv);
    }
  }
}

}  // namespace
}  // namespace qrt::ops
