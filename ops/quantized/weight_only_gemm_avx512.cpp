#include "ops/quantized/weight_only_gemm.h"

#include <algorithm>
#include <cstddef>

#include "ops/avx512_target.h"
#include "ops/cpu_features.h"
#include "ops/cpu_parallel.h"

namespace qrt::ops::quantized {

namespace {

constexpr int64_t kLanes = 16;
// Register tiles: rows x output columns. 4 x 4 = 16 accumulators + 4 weight vectors + x; for one
// or two rows (GEMV, an LSTM step at batch 1) 8 columns give enough independent FMA chains.
constexpr int64_t kRowTile = 4;
constexpr int64_t kColumnTile = 4;
constexpr int64_t kNarrowColumnTile = 8;
// Multiply-adds below which one thread is faster than starting another.
constexpr int64_t kMinMacsPerThread = int64_t{1} << 22;

QRT_TARGET_AVX512_F16C inline __mmask16 lane_mask(int64_t count) {
  return count >= kLanes ? static_cast<__mmask16>(0xffff)
                         : static_cast<__mmask16>((1u << count) - 1);
}

// 16 weights of row n starting at k (masked lanes load as 0).
template <WeightCode C>
QRT_TARGET_AVX512_F16C inline __m512 load_weights(const WeightOnlyGemm& g, int64_t n, int64_t k,
                                                  __mmask16 mask) {
  if constexpr (C == WeightCode::kF16) {
    const auto* w = static_cast<const uint16_t*>(g.w) + n * g.K + k;
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, w));
  } else if constexpr (C == WeightCode::kBF16) {
    const auto* w = static_cast<const uint16_t*>(g.w) + n * g.K + k;
    const __m512i wide = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, w));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  } else if constexpr (C == WeightCode::kF32) {
    return _mm512_maskz_loadu_ps(mask, static_cast<const float*>(g.w) + n * g.K + k);
  } else {
    const auto* w = static_cast<const int8_t*>(g.w) + n * g.K + k;
    const __m512 q = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, w)));
    return _mm512_mul_ps(_mm512_set1_ps(g.scales[n]), q);
  }
}

// One value rounded through the output half type, as ir::round_to_f16 / round_to_bf16 do (IEEE
// round to nearest even; NaN stays a quiet NaN).
QRT_TARGET_AVX512_F16C inline float round_output(float v, OutputRounding r) {
  if (r == OutputRounding::kF16) {
    const __m128i h = _mm_cvtps_ph(_mm_set_ss(v), _MM_FROUND_TO_NEAREST_INT);
    return _mm_cvtss_f32(_mm_cvtph_ps(h));
  }
  if (r == OutputRounding::kBF16) {
    uint32_t bits;
    __builtin_memcpy(&bits, &v, sizeof(bits));
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) {
      bits = (bits | 0x00400000u) & 0xFFFF0000u;
    } else {
      bits = (bits + 0x7FFFu + ((bits >> 16) & 1u)) & 0xFFFF0000u;
    }
    __builtin_memcpy(&v, &bits, sizeof(v));
  }
  return v;
}

template <WeightCode C, int64_t MR, int64_t NR>
QRT_TARGET_AVX512_F16C void tile(const WeightOnlyGemm& g, int64_t i0, int64_t n0) {
  __m512 acc[MR][NR];
  QRT_UNROLL_TILE
  for (int64_t i = 0; i < MR; ++i) {
    QRT_UNROLL_TILE
    for (int64_t j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < g.K; k += kLanes) {
    const __mmask16 mask = lane_mask(g.K - k);
    __m512 w[NR];
    QRT_UNROLL_TILE
    for (int64_t j = 0; j < NR; ++j) w[j] = load_weights<C>(g, n0 + j, k, mask);
    QRT_UNROLL_TILE
    for (int64_t i = 0; i < MR; ++i) {
      const __m512 xv = _mm512_maskz_loadu_ps(mask, g.x + (i0 + i) * g.ldx + k);
      QRT_UNROLL_TILE
      for (int64_t j = 0; j < NR; ++j) acc[i][j] = _mm512_fmadd_ps(xv, w[j], acc[i][j]);
    }
  }
  QRT_UNROLL_TILE
  for (int64_t i = 0; i < MR; ++i) {
    QRT_UNROLL_TILE
    for (int64_t j = 0; j < NR; ++j) {
      const float b = g.bias != nullptr ? g.bias[n0 + j] : 0.0f;
      g.y[(i0 + i) * g.ldy + n0 + j] =
          round_output(_mm512_reduce_add_ps(acc[i][j]) + b, g.rounding);
    }
  }
}

template <WeightCode C, int64_t MR, int64_t NR>
QRT_TARGET_AVX512_F16C void row_remainder(int64_t rows, const WeightOnlyGemm& g, int64_t i0,
                                          int64_t n0) {
  if constexpr (MR > 0) {
    if (rows == MR) {
      tile<C, MR, NR>(g, i0, n0);
    } else {
      row_remainder<C, MR - 1, NR>(rows, g, i0, n0);
    }
  }
}

template <WeightCode C, int64_t MR, int64_t NR>
QRT_TARGET_AVX512_F16C void column_block(const WeightOnlyGemm& g, int64_t n0) {
  int64_t i = 0;
  for (; i + MR <= g.rows; i += MR) tile<C, MR, NR>(g, i, n0);
  row_remainder<C, MR - 1, NR>(g.rows - i, g, i, n0);
}

template <WeightCode C, int64_t MR, int64_t NR>
QRT_TARGET_AVX512_F16C void column_remainder(int64_t cols, const WeightOnlyGemm& g, int64_t n0) {
  if constexpr (NR > 0) {
    if (cols == NR) {
      column_block<C, MR, NR>(g, n0);
    } else {
      column_remainder<C, MR, NR - 1>(cols, g, n0);
    }
  }
}

template <WeightCode C, int64_t MR, int64_t NR>
QRT_TARGET_AVX512_F16C void columns(const WeightOnlyGemm& g, int64_t n_begin, int64_t n_end) {
  int64_t n = n_begin;
  for (; n + NR <= n_end; n += NR) column_block<C, MR, NR>(g, n);
  column_remainder<C, MR, NR - 1>(n_end - n, g, n);
}

template <WeightCode C>
QRT_TARGET_AVX512_F16C void run_columns(const WeightOnlyGemm& g, int64_t n_begin, int64_t n_end) {
  if (g.rows <= 2) {
    columns<C, 2, kNarrowColumnTile>(g, n_begin, n_end);
  } else {
    columns<C, kRowTile, kColumnTile>(g, n_begin, n_end);
  }
}

}  // namespace

bool weight_only_gemm_available() {
  const CpuFeatures& f = cpu_features();
  return f.avx512f && f.avx512bw && f.avx512vl;
}

void weight_only_gemm(const WeightOnlyGemm& g, std::size_t threads) {
  if (g.rows == 0 || g.N == 0) return;
  const auto useful =
      static_cast<std::size_t>(std::max<int64_t>(1, g.rows * g.N * g.K / kMinMacsPerThread));
  parallel_split(static_cast<std::size_t>(g.N), kNarrowColumnTile, std::min(threads, useful),
                 [&g](std::size_t begin, std::size_t end) {
                   const auto b = static_cast<int64_t>(begin), e = static_cast<int64_t>(end);
                   switch (g.code) {
                     case WeightCode::kF16:
                       run_columns<WeightCode::kF16>(g, b, e);
                       break;
                     case WeightCode::kBF16:
                       run_columns<WeightCode::kBF16>(g, b, e);
                       break;
                     case WeightCode::kInt8:
                       run_columns<WeightCode::kInt8>(g, b, e);
                       break;
                     case WeightCode::kF32:
                       run_columns<WeightCode::kF32>(g, b, e);
                       break;
                   }
                 });
}

}  // namespace qrt::ops::quantized
