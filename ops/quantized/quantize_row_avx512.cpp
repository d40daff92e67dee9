#include "ops/quantized/quantize_row_avx512.h"

#include <cfloat>
#include <cmath>

#include "ops/avx512_target.h"
#include "ops/cpu_features.h"
#include "ops/quantized/quantized_support.h"

namespace qrt::ops::quantized {

namespace {
constexpr int64_t kLanes = 16;
constexpr float kInt8Max = 127.0f;

// The first NaN / ±inf of x[0, K) (one exists): the column an error names.
int64_t first_nonfinite(const float* x, int64_t K) {
  int64_t k = 0;
  while (k < K && std::isfinite(x[k])) ++k;
  return k;
}

// Lanes [0, K − k) of a 16-lane block starting at k.
__mmask16 lanes_left(int64_t K, int64_t k) {
  return K - k >= kLanes ? static_cast<__mmask16>(0xffff)
                         : static_cast<__mmask16>((1u << (K - k)) - 1);
}

}  // namespace

bool quantize_row_avx512_available() {
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
    *bad_column = first_nonfinite(x, K);
    return false;
  }
  const float m = _mm512_reduce_max_ps(max_abs);
  const float s = symmetric_row_scale(m);
  const __m512 sv = _mm512_set1_ps(s);
  const __m512 lo = _mm512_set1_ps(-kInt8Max), hi = _mm512_set1_ps(kInt8Max);
  for (k = 0; k < K; k += kLanes) {
    const __mmask16 mask = lanes_left(K, k);
    const __m512 v = _mm512_div_ps(_mm512_maskz_loadu_ps(mask, x + k), sv);
    const __m512 r = _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512i codes = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(r, lo), hi));
    _mm_mask_storeu_epi8(q + k, mask, _mm512_cvtepi32_epi8(codes));
  }
  *scale = s;
  return true;
}

// One pass: the finiteness check rides on the load that quantizes, and on a bad row the codes
// written so far are left for the caller to ignore.
QRT_TARGET_AVX512 bool quantize_row_fixed_avx512(const float* x, int64_t K,
                                                 const ActivationQuant& a, int32_t offset,
                                                 int8_t* q, int64_t* bad_column) {
  const __m512 finite_max = _mm512_set1_ps(FLT_MAX);
  const __m512 scale = _mm512_set1_ps(a.scale);
  const __m512 z = _mm512_set1_ps(static_cast<float>(a.zero_point));
  const __m512 lo = _mm512_set1_ps(static_cast<float>(a.qmin));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(a.qmax));
  const __m512i shift = _mm512_set1_epi32(offset);
  __mmask16 bad = 0;
  for (int64_t k = 0; k < K; k += kLanes) {
    const __mmask16 mask = lanes_left(K, k);
    const __m512 v = _mm512_maskz_loadu_ps(mask, x + k);
    bad |= _mm512_mask_cmp_ps_mask(mask, _mm512_abs_ps(v), finite_max, _CMP_NLE_UQ);
    const __m512 r =
        _mm512_add_ps(_mm512_roundscale_ps(_mm512_div_ps(v, scale),
                                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC),
                      z);
    // For finite r, max then min is std::clamp; the clamped code is an integer held in a float.
    const __m512 code = _mm512_min_ps(_mm512_max_ps(r, lo), hi);
    const __m512i codes = _mm512_sub_epi32(_mm512_cvtps_epi32(code), shift);
    _mm_mask_storeu_epi8(q + k, mask, _mm512_cvtepi32_epi8(codes));
  }
  if (bad != 0) {
    *bad_column = first_nonfinite(x, K);
    return false;
  }
  return true;
}

}  // namespace qrt::ops::quantized
