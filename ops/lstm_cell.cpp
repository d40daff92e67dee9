#include "ops/lstm_cell.h"

// GCC 12's AVX-512 intrinsics initialise their "undefined" pass-through vectors from themselves,
// which -Wall reports at every use; the values are never read.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>

#include "ops/activation_math.h"
#include "ops/cpu_features.h"

#define QRT_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

namespace qrt::ops {

namespace {

constexpr int64_t kLanes = 16;

bool has_avx512() {
  const CpuFeatures& f = cpu_features();
  return f.avx512f && f.avx512bw && f.avx512vl;
}

// e^x for x <= 0 (every caller passes -|·|): x = n·ln2 + r with |r| <= ln2/2, e^r by the Cephes
// expf polynomial, 2^n applied with vscalefps (exact, and gives 0 below the subnormal range).
QRT_TARGET_AVX512 inline __m512 exp_nonpositive(__m512 x) {
  // e^-104 is already 0 in float. The constant goes first: vmaxps returns its second operand
  // when either is NaN, so a NaN gate stays NaN.
  x = _mm512_max_ps(_mm512_set1_ps(-104.0f), x);
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // r = x − n·ln2 in two steps (Cody–Waite) so r keeps its low bits.
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 r2 = _mm512_mul_ps(r, r);
  p = _mm512_fmadd_ps(p, r2, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

// σ(x): e = e^-|x|; σ = 1/(1+e) for x >= 0, e/(1+e) otherwise (no overflow on either side).
QRT_TARGET_AVX512 inline __m512 sigmoid16(__m512 x) {
  const __m512 e = exp_nonpositive(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(x)));
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 inv = _mm512_div_ps(one, _mm512_add_ps(one, e));
  const __mmask16 negative = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
  return _mm512_mask_mul_ps(inv, negative, inv, e);
}

// tanh(x) = sign(x)·(1 − e)/(1 + e) with e = e^-2|x|.
QRT_TARGET_AVX512 inline __m512 tanh16(__m512 x) {
  const __m512 a = _mm512_abs_ps(x);
  const __m512 e = exp_nonpositive(_mm512_mul_ps(a, _mm512_set1_ps(-2.0f)));
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 t = _mm512_div_ps(_mm512_sub_ps(one, e), _mm512_add_ps(one, e));
  // Copy the sign of x onto t (t >= 0).
  const __m512i sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN));
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(t), sign));
}

QRT_TARGET_AVX512 inline __m512 gate_sum(const float* gx, const float* gh, int64_t offset,
                                         __mmask16 m) {
  return _mm512_add_ps(_mm512_maskz_loadu_ps(m, gx + offset),
                       _mm512_maskz_loadu_ps(m, gh + offset));
}

QRT_TARGET_AVX512 void cell_avx512(const float* gx, const float* gh, float* c, float* h,
                                   int64_t H) {
  for (int64_t j = 0; j < H; j += kLanes) {
    const __mmask16 m = H - j >= kLanes ? static_cast<__mmask16>(0xffff)
                                        : static_cast<__mmask16>((1u << (H - j)) - 1);
    const __m512 i_gate = sigmoid16(gate_sum(gx, gh, 0 * H + j, m));
    const __m512 f_gate = sigmoid16(gate_sum(gx, gh, 1 * H + j, m));
    const __m512 g_gate = tanh16(gate_sum(gx, gh, 2 * H + j, m));
    const __m512 o_gate = sigmoid16(gate_sum(gx, gh, 3 * H + j, m));
    const __m512 c_new = _mm512_add_ps(_mm512_mul_ps(f_gate, _mm512_maskz_loadu_ps(m, c + j)),
                                       _mm512_mul_ps(i_gate, g_gate));
    _mm512_mask_storeu_ps(c + j, m, c_new);
    _mm512_mask_storeu_ps(h + j, m, _mm512_mul_ps(o_gate, tanh16(c_new)));
  }
}

}  // namespace

void lstm_cell_update_reference(const float* gx, const float* gh, float* c, float* h, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const float i_gate = sigmoid(gx[j] + gh[j]);
    const float f_gate = sigmoid(gx[H + j] + gh[H + j]);
    const float g_gate = std::tanh(gx[2 * H + j] + gh[2 * H + j]);
    const float o_gate = sigmoid(gx[3 * H + j] + gh[3 * H + j]);
    c[j] = f_gate * c[j] + i_gate * g_gate;
    h[j] = o_gate * std::tanh(c[j]);
  }
}

void lstm_cell_update(const float* gx, const float* gh, float* c, float* h, int64_t H) {
  if (has_avx512()) {
    cell_avx512(gx, gh, c, h, H);
  } else {
    lstm_cell_update_reference(gx, gh, c, h, H);
  }
}

const char* lstm_cell_implementation() {
  return has_avx512() ? "avx512" : "scalar";
}

}  // namespace qrt::ops
