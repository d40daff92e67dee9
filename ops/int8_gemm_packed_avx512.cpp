// AVX-512 VNNI kernel over PackedInt8Weights (ops/int8_gemm.h). Per k-group of 4, one 64-byte
// load gives 4 k-values of 16 output columns; each activation row contributes one broadcast of
// its 4 bytes, shifted into u8 (xor 0x80) because vpdpbusd multiplies unsigned by signed bytes:
//   Σ_k (a+128)·b = Σ_k a·b + 128·Σ_k b,
// and the precomputed 128·Σ_k b is subtracted at the end. vpdpbusd wraps modulo 2^32, so the
// corrected result is exact (it fits int32 for K < 2^17). An MR x NB register tile keeps MR·NB
// accumulators: each weight vector feeds MR rows and each broadcast NB column blocks.
// K is walked in slices of kGroupsPerSlice groups so that the tile's weight slices (NB·16 columns
// · slice bytes) stay in L1 while every row tile passes over them; partial sums go through `acc`.

#include <algorithm>
#include <cstring>

#include "ops/avx512_target.h"
#include "ops/int8_gemm_kernels.h"
#include "ops/int8_gemm_packed_kernels.h"

namespace qrt::ops {

namespace {

constexpr std::size_t kRowTile = 6;  // 6 x 4 tile: 24 accumulators + 4 weights + broadcast + 0x80
// Tiles for one or two rows (GEMV, an LSTM step at batch 1): 8 column blocks give 8-16
// independent accumulation chains, enough to hide vpdpbusd's latency.
constexpr std::size_t kNarrowBlocks = 8;
// 4 blocks · 16 columns · 4 bytes · 128 groups = 32 KiB of weights per slice: the L1 data cache.
constexpr std::size_t kGroupsPerSlice = 128;
constexpr std::size_t kGroupBytes = kPackedColumns * kPackedK;  // 64: one zmm

struct Args {
  const int8_t* a;
  std::size_t lda;
  const PackedInt8Weights* b;
  int32_t* acc;
  std::size_t ldc;
  std::size_t groups;  // ceil(K / 4)
};

// The 4 activation bytes of group g of row `row` (zero past K: those weights are zero padding).
inline int32_t activation_group(const int8_t* row, std::size_t g, std::size_t k) {
  int32_t v = 0;
  const std::size_t start = g * kPackedK;
  std::memcpy(&v, row + start, std::min(kPackedK, k - start));
  return v;
}

// Rows [i0, i0+MR) x blocks [blk0, blk0+NB), groups [g0, g1). first: the first K slice (start
// from zero); last: the final slice (subtract the shift correction, store only valid columns).
template <std::size_t MR, std::size_t NB>
QRT_TARGET_AVX512VNNI void tile(const Args& p, std::size_t i0, std::size_t blk0, std::size_t g0,
                                std::size_t g1, bool first, bool last) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const std::size_t k = p.b->k;
  const std::size_t full_groups = k / kPackedK;  // groups whose 4 bytes all lie inside K
  const std::size_t block_bytes = p.groups * kGroupBytes;
  const int8_t* w = p.b->data.data() + blk0 * block_bytes;
  const int8_t* a = p.a + i0 * p.lda;
  const std::size_t n0 = blk0 * kPackedColumns;
  __m512i c[MR][NB];
  QRT_UNROLL_TILE
  for (std::size_t i = 0; i < MR; ++i) {
    QRT_UNROLL_TILE
    for (std::size_t j = 0; j < NB; ++j) {
      c[i][j] = first ? _mm512_setzero_si512()
                      : _mm512_loadu_si512(p.acc + (i0 + i) * p.ldc + n0 + j * kPackedColumns);
    }
  }
  const std::size_t g_full_end = std::min(g1, full_groups);
  std::size_t g = g0;
  for (; g < g_full_end; ++g) {
    __m512i wv[NB];
    QRT_UNROLL_TILE
    for (std::size_t j = 0; j < NB; ++j)
      wv[j] = _mm512_loadu_si512(w + j * block_bytes + g * kGroupBytes);
    QRT_UNROLL_TILE
    for (std::size_t i = 0; i < MR; ++i) {
      int32_t four;
      std::memcpy(&four, a + i * p.lda + g * kPackedK, sizeof(four));
      const __m512i av = _mm512_xor_si512(_mm512_set1_epi32(four), flip);
      QRT_UNROLL_TILE
      for (std::size_t j = 0; j < NB; ++j) c[i][j] = _mm512_dpbusd_epi32(c[i][j], av, wv[j]);
    }
  }
  for (; g < g1; ++g) {  // the partial last group (K % 4 != 0)
    __m512i wv[NB];
    QRT_UNROLL_TILE
    for (std::size_t j = 0; j < NB; ++j)
      wv[j] = _mm512_loadu_si512(w + j * block_bytes + g * kGroupBytes);
    QRT_UNROLL_TILE
    for (std::size_t i = 0; i < MR; ++i) {
      const __m512i av =
          _mm512_xor_si512(_mm512_set1_epi32(activation_group(a + i * p.lda, g, k)), flip);
      QRT_UNROLL_TILE
      for (std::size_t j = 0; j < NB; ++j) c[i][j] = _mm512_dpbusd_epi32(c[i][j], av, wv[j]);
    }
  }
  QRT_UNROLL_TILE
  for (std::size_t j = 0; j < NB; ++j) {
    const std::size_t n = n0 + j * kPackedColumns;
    const std::size_t valid = std::min(kPackedColumns, p.b->n - n);
    const __mmask16 mask = static_cast<__mmask16>((1u << valid) - 1);
    const __m512i sums = _mm512_loadu_si512(p.b->shifted_sums.data() + n);
    QRT_UNROLL_TILE
    for (std::size_t i = 0; i < MR; ++i) {
      int32_t* out = p.acc + (i0 + i) * p.ldc + n;
      if (last) {
        _mm512_mask_storeu_epi32(out, mask, _mm512_sub_epi32(c[i][j], sums));
      } else {
        // Intermediate K slices keep the whole 16 lanes: the output row must hold them, which
        // only the caller's padded scratch does (see the entry point below).
        _mm512_storeu_si512(out, c[i][j]);
      }
    }
  }
}

// All rows for NB column blocks starting at blk0, over groups [g0, g1).
template <std::size_t MR, std::size_t NB>
QRT_TARGET_AVX512VNNI void rows_pass(const Args& p, std::size_t m, std::size_t blk0, std::size_t g0,
                                     std::size_t g1, bool first, bool last) {
  for_each_tile<MR>(
      0, m, [&]<std::size_t R>(std::size_t i) { tile<R, NB>(p, i, blk0, g0, g1, first, last); });
}

template <std::size_t MR, std::size_t NB>
QRT_TARGET_AVX512VNNI void columns(const Args& p, std::size_t m, std::size_t block_begin,
                                   std::size_t block_end) {
  for_each_tile<NB>(block_begin, block_end, [&]<std::size_t B>(std::size_t blk) {
    for (std::size_t g0 = 0; g0 < p.groups; g0 += kGroupsPerSlice) {
      const std::size_t g1 = std::min(p.groups, g0 + kGroupsPerSlice);
      rows_pass<MR, B>(p, m, blk, g0, g1, g0 == 0, g1 == p.groups);
    }
  });
}

}  // namespace

QRT_TARGET_AVX512VNNI void gemm_s8s8_s32_packed_columns_avx512vnni(
    const int8_t* a, std::size_t lda, const PackedInt8Weights& b, int32_t* acc, std::size_t ldc,
    std::size_t m, std::size_t block_begin, std::size_t block_end) {
  const Args p{a, lda, &b, acc, ldc, (b.k + kPackedK - 1) / kPackedK};
  if (p.groups <= kGroupsPerSlice || b.n % kPackedColumns == 0) {
    if (m <= 2) {
      columns<2, kNarrowBlocks>(p, m, block_begin, block_end);
    } else {
      columns<kRowTile, kPackedBlocksPerTile>(p, m, block_begin, block_end);
    }
    return;
  }
  // K spans several slices and the last block is partial: its intermediate sums need 16 lanes of
  // room that acc rows may not have, so that block runs in one slice (L1 blocking matters little
  // for a single 16-column block).
  const std::size_t last_block = (b.n - 1) / kPackedColumns;
  const std::size_t full_end = std::min(block_end, last_block);
  if (block_begin < full_end) {
    if (m <= 2) {
      columns<2, kNarrowBlocks>(p, m, block_begin, full_end);
    } else {
      columns<kRowTile, kPackedBlocksPerTile>(p, m, block_begin, full_end);
    }
  }
  if (block_end > last_block && block_begin <= last_block) {
    rows_pass<kRowTile, 1>(p, m, last_block, 0, p.groups, true, true);
  }
}

}  // namespace qrt::ops
