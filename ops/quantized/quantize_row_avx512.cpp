#include "ops/quantized/quantize_row_avx512.h"

#include <cfloat>
#include <cmath>

#include "ops/avx512_target.h"
#include "ops/cpu_features.h"

namespace qrt::ops::quantized {

namespace {
constexpr int64_t kLanes = 16;
constexpr float kInt8Max = 127.0f;
}  // namespace

bool quantize_row_symmetric_avx512_available() {
  const CpuFeatures& f = cpu_features();
  return f.avx512f && f.avx512bw && f.avx512vl;
}

QRT_TARGET_AVX512 bool quantize_row_symmetric_avx512(const float* x, int64_t K, int8_t* q,
                                                     float* scale, int64_t* bad_column) {
  const __m512 finite_max = _mm512_set1_ps(FLT_MAX);
  __m512 max_abs = _mm512_setzero_ps();
  __mmask16 bad = 0;
  int64_t k = 0;
  for (; k + kLanes <= K; k += kLanes) {
    const __m512 a = _mm512_abs_ps(_mm512_loadu_ps(x + k));
    bad |= _mm512_cmp_ps_mask(a, finite_max, _CMP_NLE_UQ);  // NaN or |x| > FLT_MAX
    max_abs = _mm512_max_ps(max_abs, a);
  }
  if (k < K) {
    const __mmask16 tail = static_cast<__mmask16>((1u << (K - k)) - 1);
    const __m512 a = _mm512_abs_ps(_mm512_maskz_loadu_ps(tail, x + k));
    bad |= _mm512_mask_cmp_ps_mask(tail, a, finite_max, _CMP_NLE_UQ);
    max_abs = _mm512_max_ps(max_abs, a);
  }
  if (bad != 0) {
    for (int64_t j = 0; j < K; ++j) {
      if (!std::isfinite(x[j])) {
        *bad_column = j;
        return false;
      }
    }
  }
  const float m = _mm512_reduce_max_ps(max_abs);
  const float s = m > 0.0f ? m / kInt8Max : 1.0f;
  const __m512 sv = _mm512_set1_ps(s);
  const __m512 lo = _mm512_set1_ps(-kInt8Max), hi = _mm512_set1_ps(kInt8Max);
  for (k = 0; k < K; k += kLanes) {
    const __mmask16 mask = K - k >= kLanes ? static_cast<__mmask16>(0xffff)
                                           : static_cast<__mmask16>((1u << (K - k)) - 1);
    const __m512 v = _mm512_div_ps(_mm512_maskz_loadu_ps(mask, x + k), sv);
    const __m512 r = _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512i codes = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(r, lo), hi));
    _mm_mask_storeu_epi8(q + k, mask, _mm512_cvtepi32_epi8(codes));
  }
  *scale = s;
  return true;
}

}  // namespace qrt::ops::quantized
