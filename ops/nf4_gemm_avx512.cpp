// AVX-512 NF4 GEMM. The 16-entry codebook lives in one zmm register; 16 packed codes become 16
// floats with one vpermps (the code is the lane index: vpermps reads only the low 4 bits of each
// index, so the high nibble needs a shift and the low nibble nothing at all). Each decoded vector
// is scaled by its block's absmax (the same float product cb·absmax that dequantize_nf4 forms) and
// reused by every row of the register tile, so W is never materialized in memory.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "ir/quant_formats.h"
#include "ops/avx512_target.h"
#include "ops/nf4_gemm_kernels.h"

namespace qrt::ops {

namespace {

// 8 x 3 tile: 24 accumulators + 3 decoded weight vectors + 1 activation + codebook and shifts = 30
// of the 32 zmm registers; each decode (about six instructions) feeds eight FMAs.
constexpr std::size_t kRowTile = 8;     // rows of x per register tile
constexpr std::size_t kColumnTile = 3;  // rows of W (output columns) per register tile
// Bytes of x revisited by every column tile before moving on, so those rows stay in L2 instead of
// being streamed from L3 once per column tile.
constexpr std::size_t kActivationBlockBytes = 512 * 1024;
constexpr std::size_t kLanes = 16;  // floats per zmm; NF4 blocks (>= 32) are multiples of it

struct Decoder {
  __m512 codebook;
  __m512i nibble_shift;  // 4 for even elements (high nibble), 0 for odd ones (low nibble)
};

QRT_TARGET_AVX512 inline Decoder make_decoder() {
  return Decoder{_mm512_loadu_ps(ir::kNF4Codebook),
                 _mm512_set_epi32(0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4)};
}

// 16 weights from the 8 bytes at `packed`, times `scale`.
QRT_TARGET_AVX512 inline __m512 decode16(const Decoder& d, const uint8_t* packed, __m512 scale) {
  const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed));
  const __m128i each_twice = _mm_unpacklo_epi8(bytes, bytes);  // b0 b0 b1 b1 ... b7 b7
  const __m512i codes = _mm512_srlv_epi32(_mm512_cvtepu8_epi32(each_twice), d.nibble_shift);
  return _mm512_mul_ps(_mm512_permutexvar_ps(codes, d.codebook), scale);
}

QRT_TARGET_AVX512 inline float horizontal_sum(__m512 v) {
  __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v),
                           _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

template <std::size_t MR, std::size_t NR>
QRT_TARGET_AVX512 void tile(const Nf4GemmArgs& p, std::size_t i0, std::size_t j0) {
  const Decoder d = make_decoder();
  const std::size_t blocks_per_row = p.k / p.block_size;
  const std::size_t row_bytes = p.k / 2;
  __m512 c[MR][NR];
  QRT_UNROLL_TILE
  for (std::size_t i = 0; i < MR; ++i) {
    QRT_UNROLL_TILE
    for (std::size_t j = 0; j < NR; ++j) c[i][j] = _mm512_setzero_ps();
  }
  for (std::size_t blk = 0; blk < blocks_per_row; ++blk) {
    __m512 scale[NR];
    QRT_UNROLL_TILE
    for (std::size_t j = 0; j < NR; ++j) {
      scale[j] = _mm512_set1_ps(p.absmax[(j0 + j) * blocks_per_row + blk]);
    }
    const std::size_t k_end = (blk + 1) * p.block_size;
    for (std::size_t kk = blk * p.block_size; kk < k_end; kk += kLanes) {
      __m512 w[NR];
      QRT_UNROLL_TILE
      for (std::size_t j = 0; j < NR; ++j) {
        w[j] = decode16(d, p.packed + (j0 + j) * row_bytes + kk / 2, scale[j]);
      }
      QRT_UNROLL_TILE
      for (std::size_t i = 0; i < MR; ++i) {
        const __m512 xv = _mm512_loadu_ps(p.x + (i0 + i) * p.k + kk);
        QRT_UNROLL_TILE
        for (std::size_t j = 0; j < NR; ++j) c[i][j] = _mm512_fmadd_ps(xv, w[j], c[i][j]);
      }
    }
  }
  QRT_UNROLL_TILE
  for (std::size_t i = 0; i < MR; ++i) {
    QRT_UNROLL_TILE
    for (std::size_t j = 0; j < NR; ++j) {
      const float b = p.bias != nullptr ? p.bias[j0 + j] : 0.0f;
      p.y[(i0 + i) * p.n + j0 + j] = horizontal_sum(c[i][j]) + b;
    }
  }
}

template <std::size_t MR, std::size_t NR>
QRT_TARGET_AVX512 void remainder_tile(std::size_t rows, const Nf4GemmArgs& p, std::size_t i0,
                                      std::size_t j0) {
  if constexpr (MR > 0) {
    if (rows == MR) {
      tile<MR, NR>(p, i0, j0);
    } else {
      remainder_tile<MR - 1, NR>(rows, p, i0, j0);
    }
  }
}

// Rows [i_begin, i_end) for NR output columns.
template <std::size_t NR>
QRT_TARGET_AVX512 void column_tile(const Nf4GemmArgs& p, std::size_t i_begin, std::size_t i_end,
                                   std::size_t j0) {
  std::size_t i = i_begin;
  for (; i + kRowTile <= i_end; i += kRowTile) tile<kRowTile, NR>(p, i, j0);
  remainder_tile<kRowTile - 1, NR>(i_end - i, p, i, j0);
}

}  // namespace

QRT_TARGET_AVX512 void nf4_gemm_columns_avx512(const Nf4GemmArgs& p, std::size_t n_begin,
                                               std::size_t n_end) {
  const std::size_t row_bytes = std::max<std::size_t>(1, p.k * sizeof(float));
  const std::size_t block_rows =
      std::max(kRowTile, kActivationBlockBytes / row_bytes / kRowTile * kRowTile);
  for (std::size_t i0 = 0; i0 < p.m; i0 += block_rows) {
    const std::size_t i1 = std::min(p.m, i0 + block_rows);
    std::size_t j = n_begin;
    for (; j + kColumnTile <= n_end; j += kColumnTile) column_tile<kColumnTile>(p, i0, i1, j);
    switch (n_end - j) {
      case 2:
        column_tile<2>(p, i0, i1, j);
        break;
      case 1:
        column_tile<1>(p, i0, i1, j);
        break;
      default:
        break;
    }
  }
}

}  // namespace qrt::ops
