// AVX-VNNI int8 GEMM (the VEX, 256-bit vpdpbusd of CPUs with VNNI but without AVX-512). Same
// scheme as int8_gemm_avx512.cpp: the signed activation is shifted into u8 (xor 0x80) and
// 128·Σ_k b[n, k], computed per column tile, is subtracted; vpdpbusd wraps modulo 2^32, so the
// corrected sum is exact. AVX2 has no byte-masked loads, so the K remainder (< 32) is scalar.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "ops/int8_gemm_kernels.h"

#define QRT_TARGET_AVXVNNI __attribute__((target("avx2,avxvnni")))

namespace qrt::ops {

namespace {

// 3 x 3 tile: 9 accumulators + 3 weight vectors + 1 activation + the 0x80 constant fit the 16 ymm
// registers.
constexpr std::size_t kRowTile = 3;
constexpr std::size_t kColumnTile = 3;
constexpr std::size_t kBytesPerVector = 32;

QRT_TARGET_AVXVNNI inline __m256i load(const int8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

QRT_TARGET_AVXVNNI inline int32_t horizontal_sum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

// 128 · Σ_k b[j, k] over the vectorized part of K (the scalar remainder needs no correction).
template <std::size_t NR>
QRT_TARGET_AVXVNNI void shifted_column_sums(const int8_t* b, std::size_t ldb, std::size_t k_vec,
                                            uint32_t* out) {
  const __m256i ones = _mm256_set1_epi8(1);
  __m256i sums[NR];
  for (std::size_t j = 0; j < NR; ++j) sums[j] = _mm256_setzero_si256();
  for (std::size_t p = 0; p < k_vec; p += kBytesPerVector) {
    for (std::size_t j = 0; j < NR; ++j) {
      sums[j] = _mm256_dpbusd_avx_epi32(sums[j], ones, load(b + j * ldb + p));
    }
  }
  for (std::size_t j = 0; j < NR; ++j) {
    out[j] = static_cast<uint32_t>(horizontal_sum(sums[j])) * 128u;
  }
}

template <std::size_t MR, std::size_t NR>
QRT_TARGET_AVXVNNI void tile(const int8_t* a, std::size_t lda, const int8_t* b, std::size_t ldb,
                             int32_t* acc, std::size_t ldc, std::size_t k,
                             const uint32_t* shifted_sums) {
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  const std::size_t k_vec = k / kBytesPerVector * kBytesPerVector;
  __m256i c[MR][NR];
  for (std::size_t i = 0; i < MR; ++i) {
    for (std::size_t j = 0; j < NR; ++j) c[i][j] = _mm256_setzero_si256();
  }
  for (std::size_t p = 0; p < k_vec; p += kBytesPerVector) {
    __m256i bv[NR];
    for (std::size_t j = 0; j < NR; ++j) bv[j] = load(b + j * ldb + p);
    for (std::size_t i = 0; i < MR; ++i) {
      const __m256i av = _mm256_xor_si256(load(a + i * lda + p), flip);
      for (std::size_t j = 0; j < NR; ++j) c[i][j] = _mm256_dpbusd_avx_epi32(c[i][j], av, bv[j]);
    }
  }
  for (std::size_t i = 0; i < MR; ++i) {
    for (std::size_t j = 0; j < NR; ++j) {
      uint32_t sum = static_cast<uint32_t>(horizontal_sum(c[i][j])) - shifted_sums[j];
      for (std::size_t q = k_vec; q < k; ++q) {
        sum += static_cast<uint32_t>(static_cast<int32_t>(a[i * lda + q]) *
                                     static_cast<int32_t>(b[j * ldb + q]));
      }
      acc[i * ldc + j] = static_cast<int32_t>(sum);
    }
  }
}

template <std::size_t NR>
QRT_TARGET_AVXVNNI void column_tile(const int8_t* a, std::size_t lda, const int8_t* b,
                                    std::size_t ldb, int32_t* acc, std::size_t ldc, std::size_t m,
                                    std::size_t k) {
  uint32_t shifted_sums[NR];
  shifted_column_sums<NR>(b, ldb, k / kBytesPerVector * kBytesPerVector, shifted_sums);
  for_each_tile<kRowTile>(0, m, [&]<std::size_t MR>(std::size_t i) {
    tile<MR, NR>(a + i * lda, lda, b, ldb, acc + i * ldc, ldc, k, shifted_sums);
  });
}

}  // namespace

QRT_TARGET_AVXVNNI void gemm_s8s8_s32_columns_avxvnni(const int8_t* a, std::size_t lda,
                                                      const int8_t* b, std::size_t ldb,
                                                      int32_t* acc, std::size_t ldc, std::size_t m,
                                                      std::size_t n_begin, std::size_t n_end,
                                                      std::size_t k) {
  for_each_tile<kColumnTile>(n_begin, n_end, [&]<std::size_t NR>(std::size_t j) {
    column_tile<NR>(a, lda, b + j * ldb, ldb, acc + j, ldc, m, k);
  });
}

}  // namespace qrt::ops
