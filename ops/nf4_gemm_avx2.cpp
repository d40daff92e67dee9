// AVX2 + FMA NF4 GEMM. vpermps on ymm indexes only 8 entries, so the 16-entry codebook is two
// registers: both are looked up with the low 3 bits of the code and bit 3 picks between them
// (shifted into the sign bit for vblendvps). Each decoded vector is scaled by its block's absmax
// (the float product cb·absmax that dequantize_nf4 forms) and reused by every row of the tile.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "ir/quant_formats.h"
#include "ops/nf4_gemm_kernels.h"

#define QRT_TARGET_AVX2_FMA __attribute__((target("avx2,fma")))

namespace qrt::ops {

namespace {

// 4 x 2 tile: 8 accumulators, 2 weight vectors, 1 activation and the decoder constants fit the 16
// ymm registers.
constexpr std::size_t kRowTile = 4;
constexpr std::size_t kColumnTile = 2;
constexpr std::size_t kLanes = 8;

struct Decoder {
  __m256 codebook_low;   // codes 0..7
  __m256 codebook_high;  // codes 8..15
  __m256i nibble_shift;  // 4 for even elements (high nibble), 0 for odd ones (low nibble)
};

QRT_TARGET_AVX2_FMA inline Decoder make_decoder() {
  return Decoder{_mm256_loadu_ps(ir::kNF4Codebook), _mm256_loadu_ps(ir::kNF4Codebook + 8),
                 _mm256_set_epi32(0, 4, 0, 4, 0, 4, 0, 4)};
}

// 8 weights from the 4 bytes at `packed`, times `scale`.
QRT_TARGET_AVX2_FMA inline __m256 decode8(const Decoder& d, const uint8_t* packed, __m256 scale) {
  int32_t four_bytes;
  __builtin_memcpy(&four_bytes, packed, sizeof(four_bytes));
  const __m128i bytes = _mm_cvtsi32_si128(four_bytes);
  const __m128i each_twice = _mm_unpacklo_epi8(bytes, bytes);  // b0 b0 b1 b1 b2 b2 b3 b3
  // Odd lanes keep the whole byte: the lookup reads bits 0..2 and the blend bit 3, i.e. exactly
  // the low nibble.
  const __m256i codes = _mm256_srlv_epi32(_mm256_cvtepu8_epi32(each_twice), d.nibble_shift);
  const __m256 low = _mm256_permutevar8x32_ps(d.codebook_low, codes);
  const __m256 high = _mm256_permutevar8x32_ps(d.codebook_high, codes);
  const __m256 use_high = _mm256_castsi256_ps(_mm256_slli_epi32(codes, 28));
  return _mm256_mul_ps(_mm256_blendv_ps(low, high, use_high), scale);
}

QRT_TARGET_AVX2_FMA inline float horizontal_sum(__m256 v) {
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

template <std::size_t MR, std::size_t NR>
QRT_TARGET_AVX2_FMA void tile(const Nf4GemmArgs& p, std::size_t i0, std::size_t j0) {
  const Decoder d = make_decoder();
  const std::size_t blocks_per_row = p.k / p.block_size;
  const std::size_t row_bytes = p.k / 2;
  __m256 c[MR][NR];
  for (std::size_t i = 0; i < MR; ++i) {
    for (std::size_t j = 0; j < NR; ++j) c[i][j] = _mm256_setzero_ps();
  }
  for (std::size_t blk = 0; blk < blocks_per_row; ++blk) {
    __m256 scale[NR];
    for (std::size_t j = 0; j < NR; ++j) {
      scale[j] = _mm256_set1_ps(p.absmax[(j0 + j) * blocks_per_row + blk]);
    }
    const std::size_t k_end = (blk + 1) * p.block_size;
    for (std::size_t kk = blk * p.block_size; kk < k_end; kk += kLanes) {
      __m256 w[NR];
      for (std::size_t j = 0; j < NR; ++j) {
        w[j] = decode8(d, p.packed + (j0 + j) * row_bytes + kk / 2, scale[j]);
      }
      for (std::size_t i = 0; i < MR; ++i) {
        const __m256 xv = _mm256_loadu_ps(p.x + (i0 + i) * p.k + kk);
        for (std::size_t j = 0; j < NR; ++j) c[i][j] = _mm256_fmadd_ps(xv, w[j], c[i][j]);
      }
    }
  }
  for (std::size_t i = 0; i < MR; ++i) {
    for (std::size_t j = 0; j < NR; ++j) {
      const float b = p.bias != nullptr ? p.bias[j0 + j] : 0.0f;
      p.y[(i0 + i) * p.n + j0 + j] = horizontal_sum(c[i][j]) + b;
    }
  }
}

template <std::size_t NR>
QRT_TARGET_AVX2_FMA void column_tile(const Nf4GemmArgs& p, std::size_t j0) {
  std::size_t i = 0;
  for (; i + kRowTile <= p.m; i += kRowTile) tile<kRowTile, NR>(p, i, j0);
  switch (p.m - i) {
    case 3:
      tile<3, NR>(p, i, j0);
      break;
    case 2:
      tile<2, NR>(p, i, j0);
      break;
    case 1:
      tile<1, NR>(p, i, j0);
      break;
    default:
      break;
  }
}

}  // namespace

QRT_TARGET_AVX2_FMA void nf4_gemm_columns_avx2(const Nf4GemmArgs& p, std::size_t n_begin,
                                               std::size_t n_end) {
  std::size_t j = n_begin;
  for (; j + kColumnTile <= n_end; j += kColumnTile) column_tile<kColumnTile>(p, j);
  if (j < n_end) column_tile<1>(p, j);
}

}  // namespace qrt::ops
