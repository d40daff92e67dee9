// AVX-512 VNNI int8 GEMM. vpdpbusd multiplies unsigned by signed bytes, while both operands here
// are signed, so the activation is shifted into u8 (a + 128, an xor with 0x80) and the excess is
// removed afterwards:  Σ_k (a+128)·b = Σ_k a·b + 128·Σ_k b.  The column sums Σ_k b[n, k] are
// computed per column tile (vpdpbusd against a vector of ones) right before the tile's dot
// products, while those weight rows are being pulled into L1 anyway (this raw-int8 entry takes any
// weight; a constant weight used many times is better served by the prepacked layout with the sums
// computed once, int8_gemm_packed_avx512.cpp). vpdpbusd wraps modulo 2^32 rather than saturating,
// so even when the shifted sum overflows int32 the corrected result equals the exact one (which
// fits in int32 for K < 2^17).
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "ops/avx512_target.h"
#include "ops/int8_gemm_kernels.h"

namespace qrt::ops {

namespace {

// 6 x 4 tile: 24 accumulators + 4 weight vectors + 1 activation + the 0x80 constant = 30 of the
// 32 zmm registers.
constexpr std::size_t kRowTile = 6;     // rows of a per register tile
constexpr std::size_t kColumnTile = 4;  // rows of b (output columns) per register tile
// Bytes of `a` revisited by every column tile before moving on, so those rows stay in L2 (1 MiB or
// more per core on AVX-512 parts) instead of being streamed from L3 once per column tile.
constexpr std::size_t kActivationBlockBytes = 256 * 1024;
constexpr std::size_t kBytesPerVector = 64;

// Mask selecting the first `count` (< 64) bytes of a vector, for the K remainder.
QRT_TARGET_AVX512VNNI inline __mmask64 tail_mask(std::size_t count) {
  return static_cast<__mmask64>((uint64_t{1} << count) - 1);
}

// Sum of the 16 int32 lanes (wrapping).
QRT_TARGET_AVX512VNNI inline int32_t horizontal_sum(__m512i v) {
  v = _mm512_add_epi32(v, _mm512_shuffle_i64x2(v, v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm512_add_epi32(v, _mm512_shuffle_i64x2(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
  v = _mm512_add_epi32(v, _mm512_shuffle_epi32(v, _MM_PERM_BADC));
  v = _mm512_add_epi32(v, _mm512_shuffle_epi32(v, _MM_PERM_CDAB));
  return _mm_cvtsi128_si32(_mm512_castsi512_si128(v));
}

// 128 · Σ_k b[j, k] for the NR rows of b starting at `b`.
template <std::size_t NR>
QRT_TARGET_AVX512VNNI void shifted_column_sums(const int8_t* b, std::size_t ldb, std::size_t k,
                                               int32_t* out) {
  const __m512i ones = _mm512_set1_epi8(1);
  __m512i sums[NR];
  for (std::size_t j = 0; j < NR; ++j) sums[j] = _mm512_setzero_si512();
  std::size_t p = 0;
  for (; p + kBytesPerVector <= k; p += kBytesPerVector) {
    for (std::size_t j = 0; j < NR; ++j) {
      sums[j] = _mm512_dpbusd_epi32(sums[j], ones, _mm512_loadu_si512(b + j * ldb + p));
    }
  }
  if (p < k) {
    const __mmask64 mask = tail_mask(k - p);
    for (std::size_t j = 0; j < NR; ++j) {
      sums[j] = _mm512_dpbusd_epi32(sums[j], ones, _mm512_maskz_loadu_epi8(mask, b + j * ldb + p));
    }
  }
  // Multiplying by 128 may wrap; the subtraction it feeds is modulo 2^32 as well.
  for (std::size_t j = 0; j < NR; ++j) {
    out[j] = static_cast<int32_t>(static_cast<uint32_t>(horizontal_sum(sums[j])) * 128u);
  }
}

// One MR x NR output tile: MR·NR vector accumulators, each weight vector reused MR times and each
// activation vector NR times.
template <std::size_t MR, std::size_t NR>
QRT_TARGET_AVX512VNNI void tile(const int8_t* a, std::size_t lda, const int8_t* b, std::size_t ldb,
                                int32_t* acc, std::size_t ldc, std::size_t k,
                                const int32_t* shifted_sums) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512i c[MR][NR];
  for (std::size_t i = 0; i < MR; ++i) {
    for (std::size_t j = 0; j < NR; ++j) c[i][j] = _mm512_setzero_si512();
  }
  std::size_t p = 0;
  for (; p + kBytesPerVector <= k; p += kBytesPerVector) {
    __m512i bv[NR];
    for (std::size_t j = 0; j < NR; ++j) bv[j] = _mm512_loadu_si512(b + j * ldb + p);
    for (std::size_t i = 0; i < MR; ++i) {
      const __m512i av = _mm512_xor_si512(_mm512_loadu_si512(a + i * lda + p), flip);
      for (std::size_t j = 0; j < NR; ++j) c[i][j] = _mm512_dpbusd_epi32(c[i][j], av, bv[j]);
    }
  }
  if (p < k) {
    // Masked-off bytes load as 0 in b, so whatever the shifted activation holds there adds 0.
    const __mmask64 mask = tail_mask(k - p);
    __m512i bv[NR];
    for (std::size_t j = 0; j < NR; ++j) bv[j] = _mm512_maskz_loadu_epi8(mask, b + j * ldb + p);
    for (std::size_t i = 0; i < MR; ++i) {
      const __m512i av = _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, a + i * lda + p), flip);
      for (std::size_t j = 0; j < NR; ++j) c[i][j] = _mm512_dpbusd_epi32(c[i][j], av, bv[j]);
    }
  }
  for (std::size_t i = 0; i < MR; ++i) {
    for (std::size_t j = 0; j < NR; ++j) {
      const uint32_t shifted = static_cast<uint32_t>(horizontal_sum(c[i][j]));
      acc[i * ldc + j] = static_cast<int32_t>(shifted - static_cast<uint32_t>(shifted_sums[j]));
    }
  }
}

// All M rows for NR output columns.
template <std::size_t NR>
QRT_TARGET_AVX512VNNI void column_tile(const int8_t* a, std::size_t lda, const int8_t* b,
                                       std::size_t ldb, int32_t* acc, std::size_t ldc,
                                       std::size_t m, std::size_t k) {
  int32_t shifted_sums[NR];
  shifted_column_sums<NR>(b, ldb, k, shifted_sums);
  for_each_tile<kRowTile>(0, m, [&]<std::size_t MR>(std::size_t i) {
    tile<MR, NR>(a + i * lda, lda, b, ldb, acc + i * ldc, ldc, k, shifted_sums);
  });
}

}  // namespace

QRT_TARGET_AVX512VNNI void gemm_s8s8_s32_columns_avx512vnni(const int8_t* a, std::size_t lda,
                                                            const int8_t* b, std::size_t ldb,
                                                            int32_t* acc, std::size_t ldc,
                                                            std::size_t m, std::size_t n_begin,
                                                            std::size_t n_end, std::size_t k) {
  const std::size_t block_rows =
      std::max(kRowTile, kActivationBlockBytes / std::max<std::size_t>(1, k) / kRowTile * kRowTile);
  for (std::size_t i0 = 0; i0 < m; i0 += block_rows) {
    const std::size_t rows = std::min(block_rows, m - i0);
    const int8_t* a_block = a + i0 * lda;
    int32_t* acc_block = acc + i0 * ldc;
    for_each_tile<kColumnTile>(n_begin, n_end, [&]<std::size_t NR>(std::size_t j) {
      column_tile<NR>(a_block, lda, b + j * ldb, ldb, acc_block + j, ldc, rows, k);
    });
  }
}

}  // namespace qrt::ops
