// AVX2 int8 GEMM. Both operands are sign-extended to int16 and multiplied with vpmaddwd, whose
// pairwise int32 sums are exact for every int8 input. (The vpmaddubsw "sign trick", |a| times
// b·sign(a), saturates its int16 pair sums: a = b = -128 in both lanes of a pair gives
// 2·128·128 = 32768 > 32767, and the API takes raw int8 that may hold -128.)
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "ops/int8_gemm_kernels.h"

#define QRT_TARGET_AVX2 __attribute__((target("avx2")))

namespace qrt::ops {

namespace {

// 4 x 3 tile: 12 accumulators + 3 weight vectors + 1 activation vector = the 16 ymm registers.
constexpr std::size_t kRowTile = 4;
constexpr std::size_t kColumnTile = 3;
constexpr std::size_t kBytesPerStep = 16;  // int8 values widened into one ymm of int16

QRT_TARGET_AVX2 inline __m256i load_widened(const int8_t* p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

QRT_TARGET_AVX2 inline int32_t horizontal_sum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

template <std::size_t MR, std::size_t NR>
QRT_TARGET_AVX2 void tile(const int8_t* a, std::size_t lda, const int8_t* b, std::size_t ldb,
                          int32_t* acc, std::size_t ldc, std::size_t k) {
  __m256i c[MR][NR];
  for (std::size_t i = 0; i < MR; ++i) {
    for (std::size_t j = 0; j < NR; ++j) c[i][j] = _mm256_setzero_si256();
  }
  std::size_t p = 0;
  for (; p + kBytesPerStep <= k; p += kBytesPerStep) {
    __m256i bv[NR];
    for (std::size_t j = 0; j < NR; ++j) bv[j] = load_widened(b + j * ldb + p);
    for (std::size_t i = 0; i < MR; ++i) {
      const __m256i av = load_widened(a + i * lda + p);
      for (std::size_t j = 0; j < NR; ++j) {
        c[i][j] = _mm256_add_epi32(c[i][j], _mm256_madd_epi16(av, bv[j]));
      }
    }
  }
  for (std::size_t i = 0; i < MR; ++i) {
    for (std::size_t j = 0; j < NR; ++j) {
      int32_t sum = horizontal_sum(c[i][j]);
      // K remainder (< 16 values): scalar, exact.
      for (std::size_t q = p; q < k; ++q) {
        sum += static_cast<int32_t>(a[i * lda + q]) * static_cast<int32_t>(b[j * ldb + q]);
      }
      acc[i * ldc + j] = sum;
    }
  }
}

template <std::size_t NR>
QRT_TARGET_AVX2 void column_tile(const int8_t* a, std::size_t lda, const int8_t* b, std::size_t ldb,
                                 int32_t* acc, std::size_t ldc, std::size_t m, std::size_t k) {
  for_each_tile<kRowTile>(0, m, [&]<std::size_t MR>(std::size_t i) {
    tile<MR, NR>(a + i * lda, lda, b, ldb, acc + i * ldc, ldc, k);
  });
}

}  // namespace

QRT_TARGET_AVX2 void gemm_s8s8_s32_columns_avx2(const int8_t* a, std::size_t lda, const int8_t* b,
                                                std::size_t ldb, int32_t* acc, std::size_t ldc,
                                                std::size_t m, std::size_t n_begin,
                                                std::size_t n_end, std::size_t k) {
  for_each_tile<kColumnTile>(n_begin, n_end, [&]<std::size_t NR>(std::size_t j) {
    column_tile<NR>(a, lda, b + j * ldb, ldb, acc + j, ldc, m, k);
  });
}

}  // namespace qrt::ops
