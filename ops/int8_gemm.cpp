#include "ops/int8_gemm.h"

#include <array>

#include "ops/cpu_parallel.h"
#include "ops/int8_gemm_kernels.h"

namespace qrt::ops {

namespace {

// Multiply-adds below which one thread is faster than starting another (a thread start costs
// tens of microseconds; the vector kernels do several int8 multiply-adds per nanosecond).
constexpr std::size_t kMinMacsPerThread = std::size_t{1} << 22;

void columns_reference(const int8_t* a, std::size_t lda, const int8_t* b, std::size_t ldb,
                       int32_t* acc, std::size_t ldc, std::size_t m, std::size_t n_begin,
                       std::size_t n_end, std::size_t k) {
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = n_begin; j < n_end; ++j) {
      int32_t sum = 0;
      for (std::size_t p = 0; p < k; ++p) {
        sum += static_cast<int32_t>(a[i * lda + p]) * static_cast<int32_t>(b[j * ldb + p]);
      }
      acc[i * ldc + j] = sum;
    }
  }
}

bool always(const CpuFeatures&) {
  return true;
}

bool has_avx2(const CpuFeatures& f) {
  return f.avx2;
}
bool has_avxvnni(const CpuFeatures& f) {
  return f.avx2 && f.avxvnni;
}
bool has_avx512vnni(const CpuFeatures& f) {
  return f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni;
}

// column_grain: each kernel's column tile, so a thread split never cuts one.
constexpr std::array<Int8GemmImplementation, 4> kImplementations = {{
    {"avx512-vnni", &gemm_s8s8_s32_columns_avx512vnni, &has_avx512vnni, 4},
    {"avx-vnni", &gemm_s8s8_s32_columns_avxvnni, &has_avxvnni, 3},
    {"avx2", &gemm_s8s8_s32_columns_avx2, &has_avx2, 3},
    {"portable", &columns_reference, &always, 1},
}};

}  // namespace

std::span<const Int8GemmImplementation> int8_gemm_implementations() {
  return kImplementations;
}

const Int8GemmImplementation& best_int8_gemm_implementation() {
  // The CPU cannot change under a running process, so the choice is made once.
  static const Int8GemmImplementation& best = []() -> const Int8GemmImplementation& {
    for (const auto& impl : kImplementations) {
      if (impl.supported(cpu_features())) return impl;
    }
    return kImplementations.back();
  }();
  return best;
}

void run_int8_gemm(const Int8GemmImplementation& impl, const int8_t* a, std::size_t lda,
                   const int8_t* b, std::size_t ldb, int32_t* acc, std::size_t ldc, std::size_t m,
                   std::size_t n, std::size_t k, std::size_t threads) {
  if (m == 0 || n == 0) return;
  const std::size_t macs = m * n * k;
  const std::size_t useful = std::max<std::size_t>(1, macs / kMinMacsPerThread);
  parallel_split(n, impl.column_grain, std::min(threads, useful),
                 [&](std::size_t begin, std::size_t end) {
                   impl.columns(a, lda, b, ldb, acc, ldc, m, begin, end, k);
                 });
}

void gemm_s8s8_s32(const int8_t* a, std::size_t lda, const int8_t* b, std::size_t ldb, int32_t* acc,
                   std::size_t ldc, std::size_t m, std::size_t n, std::size_t k) {
  run_int8_gemm(best_int8_gemm_implementation(), a, lda, b, ldb, acc, ldc, m, n, k,
                default_cpu_threads());
}

void gemm_s8s8_s32_reference(const int8_t* a, std::size_t lda, const int8_t* b, std::size_t ldb,
                             int32_t* acc, std::size_t ldc, std::size_t m, std::size_t n,
                             std::size_t k) {
  columns_reference(a, lda, b, ldb, acc, ldc, m, 0, n, k);
}

const char* gemm_s8s8_s32_implementation() {
  return best_int8_gemm_implementation().name;
}

}  // namespace qrt::ops
