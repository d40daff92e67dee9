#include "ops/quantized/lane_packed_gemm.h"

#include <algorithm>
#include <cstring>

#include "ops/avx512_target.h"
#include "ops/cpu_parallel.h"

namespace qrt::ops::quantized {

namespace {

constexpr int64_t kLanes = 16;
constexpr int64_t kRowTile = 4;  // 4 rows x 4 blocks: 16 accumulators
constexpr int64_t kBlocks = 4;
// 1-2 rows x 8 blocks: 8-16 independent FMA chains hide the FMA latency at batch 1.
constexpr int64_t kNarrowRows = 2;
constexpr int64_t kNarrowBlocks = 8;
// A second thread only pays from 2^24 MACs: one runs about 100 GMAC/s here (f32, 2-core EPYC) and
// a thread start costs about 50 us, so at K=256, N=1024 a 32-row product took 79 us on one thread
// and 109 us on two, a 64-row one 191 vs 138 us (f16 and int8 codes alike).
constexpr int64_t kMinMacsPerThread = int64_t{1} << 23;

std::size_t code_bytes(WeightCode code) {
  return code == WeightCode::kInt8 ? 1 : code == WeightCode::kF32 ? 4 : 2;
}

template <WeightCode C>
QRT_TARGET_AVX512_F16C inline __m512 load_lanes(const LanePackedWeights& w, int64_t block,
                                                int64_t k, __m512 scale) {
  const std::size_t index = (static_cast<std::size_t>(block) * w.K + k) * kLanes;
  if constexpr (C == WeightCode::kF16) {
    const auto* p = reinterpret_cast<const __m256i*>(w.bytes.data() + index * 2);
    return _mm512_cvtph_ps(_mm256_loadu_si256(p));
  } else if constexpr (C == WeightCode::kBF16) {
    const auto* p = reinterpret_cast<const __m256i*>(w.bytes.data() + index * 2);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(p)), 16));
  } else if constexpr (C == WeightCode::kF32) {
    return _mm512_loadu_ps(reinterpret_cast<const float*>(w.bytes.data() + index * 4));
  } else {
    const auto* p = reinterpret_cast<const __m128i*>(w.bytes.data() + index);
    return _mm512_mul_ps(scale, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(p))));
  }
}

// ir::round_to_f16 / round_to_bf16 on 16 lanes (IEEE round to nearest even, NaN kept quiet).
QRT_TARGET_AVX512_F16C inline __m512 round_lanes(__m512 v, OutputRounding r) {
  if (r == OutputRounding::kF16)
    return _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  if (r == OutputRounding::kBF16) {
    const __m512i bits = _mm512_castps_si512(v);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
    const __m512i rounded =
        _mm512_add_epi32(bits, _mm512_add_epi32(_mm512_set1_epi32(0x7FFF), lsb));
    const __m512i nan_quiet = _mm512_or_si512(bits, _mm512_set1_epi32(0x00400000));
    const __mmask16 is_nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    const __m512i out = _mm512_mask_blend_epi32(is_nan, rounded, nan_quiet);
    return _mm512_castsi512_ps(
        _mm512_and_si512(out, _mm512_set1_epi32(static_cast<int>(0xFFFF0000u))));
  }
  return v;
}

struct Args {
  const LanePackedWeights* w;
  const float* x;
  int64_t ldx;
  const float* bias;
  float* y;
  int64_t ldy;
  OutputRounding rounding;
};

template <WeightCode C, int64_t MR, int64_t NB>
QRT_TARGET_AVX512_F16C void tile(const Args& a, int64_t i0, int64_t blk0) {
  const LanePackedWeights& w = *a.w;
  __m512 scale[NB];
  QRT_UNROLL_TILE
  for (int64_t j = 0; j < NB; ++j)
    scale[j] = C == WeightCode::kInt8 ? _mm512_loadu_ps(w.scales.data() + (blk0 + j) * kLanes)
                                      : _mm512_setzero_ps();
  __m512 acc[MR][NB];
  QRT_UNROLL_TILE
  for (int64_t i = 0; i < MR; ++i) {
    QRT_UNROLL_TILE
    for (int64_t j = 0; j < NB; ++j) acc[i][j] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < w.K; ++k) {
    __m512 wv[NB];
    QRT_UNROLL_TILE
    for (int64_t j = 0; j < NB; ++j) wv[j] = load_lanes<C>(w, blk0 + j, k, scale[j]);
    QRT_UNROLL_TILE
    for (int64_t i = 0; i < MR; ++i) {
      const __m512 xv = _mm512_set1_ps(a.x[(i0 + i) * a.ldx + k]);
      QRT_UNROLL_TILE
      for (int64_t j = 0; j < NB; ++j) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
    }
  }
  QRT_UNROLL_TILE
  for (int64_t j = 0; j < NB; ++j) {
    const int64_t n = (blk0 + j) * kLanes;
    const int64_t valid = std::min(kLanes, w.N - n);
    const __mmask16 mask = static_cast<__mmask16>((1u << valid) - 1);
    const __m512 b =
        a.bias != nullptr ? _mm512_maskz_loadu_ps(mask, a.bias + n) : _mm512_setzero_ps();
    QRT_UNROLL_TILE
    for (int64_t i = 0; i < MR; ++i)
      _mm512_mask_storeu_ps(a.y + (i0 + i) * a.ldy + n, mask,
                            round_lanes(_mm512_add_ps(acc[i][j], b), a.rounding));
  }
}

template <WeightCode C, int64_t MR, int64_t NB>
QRT_TARGET_AVX512_F16C void rows_of(int64_t rows, const Args& a, int64_t i0, int64_t blk0) {
  if constexpr (MR > 0) {
    if (rows == MR) {
      tile<C, MR, NB>(a, i0, blk0);
    } else {
      rows_of<C, MR - 1, NB>(rows, a, i0, blk0);
    }
  }
}

template <WeightCode C, int64_t MR, int64_t NB>
QRT_TARGET_AVX512_F16C void blocks_of(int64_t blocks, int64_t rows, const Args& a, int64_t blk0) {
  if constexpr (NB > 0) {
    if (blocks == NB) {
      int64_t i = 0;
      for (; i + MR <= rows; i += MR) tile<C, MR, NB>(a, i, blk0);
      rows_of<C, MR - 1, NB>(rows - i, a, i, blk0);
    } else {
      blocks_of<C, MR, NB - 1>(blocks, rows, a, blk0);
    }
  }
}

template <WeightCode C, int64_t MR, int64_t NB>
QRT_TARGET_AVX512_F16C void run_blocks(const Args& a, int64_t rows, int64_t begin, int64_t end) {
  for (int64_t blk = begin; blk < end; blk += NB)
    blocks_of<C, MR, NB>(std::min(NB, end - blk), rows, a, blk);
}

template <WeightCode C>
QRT_TARGET_AVX512_F16C void run_code(const Args& a, int64_t rows, int64_t begin, int64_t end) {
  if (rows <= kNarrowRows) {
    run_blocks<C, kNarrowRows, kNarrowBlocks>(a, rows, begin, end);
  } else {
    run_blocks<C, kRowTile, kBlocks>(a, rows, begin, end);
  }
}

QRT_TARGET_AVX512_F16C void round_to_half_avx512(const float* x, int64_t count, float* out,
                                                 OutputRounding rounding) {
  for (int64_t i = 0; i < count; i += kLanes) {
    const __mmask16 m = count - i >= kLanes ? static_cast<__mmask16>(0xffff)
                                            : static_cast<__mmask16>((1u << (count - i)) - 1);
    _mm512_mask_storeu_ps(out + i, m, round_lanes(_mm512_maskz_loadu_ps(m, x + i), rounding));
  }
}

}  // namespace

void round_to_half(const float* x, int64_t count, float* out, OutputRounding rounding) {
  round_to_half_avx512(x, count, out, rounding);
}

LanePackedWeights pack_weights_by_lanes(const void* w, WeightCode code, int64_t N, int64_t K,
                                        const float* scales) {
  LanePackedWeights p;
  p.code = code;
  p.N = N;
  p.K = K;
  const int64_t blocks = (N + kLanes - 1) / kLanes;
  const std::size_t size = code_bytes(code);
  p.bytes.assign(static_cast<std::size_t>(blocks * K * kLanes) * size, uint8_t{0});
  const auto* src = static_cast<const uint8_t*>(w);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k)
      std::memcpy(p.bytes.data() + ((n / kLanes * K + k) * kLanes + n % kLanes) * size,
                  src + (n * K + k) * size, size);
  if (code == WeightCode::kInt8) {
    p.scales.assign(static_cast<std::size_t>(blocks * kLanes), 0.0f);
    std::copy(scales, scales + N, p.scales.begin());
  }
  return p;
}

void lane_packed_gemm(const LanePackedWeights& w, const float* x, int64_t ldx, int64_t rows,
                      const float* bias, float* y, int64_t ldy, OutputRounding rounding,
                      std::size_t threads) {
  if (rows == 0 || w.N == 0) return;
  const Args a{&w, x, ldx, bias, y, ldy, rounding};
  const int64_t blocks = (w.N + kLanes - 1) / kLanes;
  const auto useful =
      static_cast<std::size_t>(std::max<int64_t>(1, rows * w.N * w.K / kMinMacsPerThread));
  parallel_split(static_cast<std::size_t>(blocks), kNarrowBlocks, std::min(threads, useful),
                 [&](std::size_t begin, std::size_t end) {
                   const auto b = static_cast<int64_t>(begin), e = static_cast<int64_t>(end);
                   switch (w.code) {
                     case WeightCode::kF16:
                       run_code<WeightCode::kF16>(a, rows, b, e);
                       break;
                     case WeightCode::kBF16:
                       run_code<WeightCode::kBF16>(a, rows, b, e);
                       break;
                     case WeightCode::kInt8:
                       run_code<WeightCode::kInt8>(a, rows, b, e);
                       break;
                     case WeightCode::kF32:
                       run_code<WeightCode::kF32>(a, rows, b, e);
                       break;
                   }
                 });
}

}  // namespace qrt::ops::quantized
