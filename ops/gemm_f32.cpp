#include "ops/gemm_f32.h"

#include <algorithm>

#include "ops/cpu_parallel.h"
#include "ops/quantized/weight_only_gemm.h"

namespace qrt::ops {

namespace {

// Rows of x that share one pass over a weight row: each loaded w[k] feeds four multiply-adds,
// which halves the loads per flop compared with one dot product at a time.
constexpr int64_t kRowsPerPass = 4;
// Bytes of W revisited by all row passes before moving on, so the block stays in L2 (256 KiB or
// more on current x86/ARM cores) while x rows stream through.
constexpr int64_t kWeightBlockBytes = 128 * 1024;

float dot(const float* a, const float* w, int64_t K) {
  float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
  for (int64_t k = 0; k < K; ++k) acc += a[k] * w[k];
  return acc;
}

// Four dot products against the same weight row.
void dot4(const float* x0, const float* x1, const float* x2, const float* x3, const float* w,
          int64_t K, float out[kRowsPerPass]) {
  float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
#pragma omp simd reduction(+ : a0, a1, a2, a3)
  for (int64_t k = 0; k < K; ++k) {
    a0 += x0[k] * w[k];
    a1 += x1[k] * w[k];
    a2 += x2[k] * w[k];
    a3 += x3[k] * w[k];
  }
  out[0] = a0;
  out[1] = a1;
  out[2] = a2;
  out[3] = a3;
}

}  // namespace

void gemm_xwt_f32(int64_t M, int64_t N, int64_t K, const float* x, int64_t ldx, const float* w,
                  const float* bias, float* y, int64_t ldy, std::size_t threads) {
  // AVX-512 CPUs: 16-lane FMA register tiles (ops/quantized/weight_only_gemm.h with f32 weights),
  // several cores for large products. The loops below are the portable form.
  if (quantized::weight_only_gemm_available()) {
    quantized::WeightOnlyGemm g;
    g.x = x;
    g.ldx = ldx;
    g.rows = M;
    g.w = w;
    g.code = quantized::WeightCode::kF32;
    g.N = N;
    g.K = K;
    g.bias = bias;
    g.y = y;
    g.ldy = ldy;
    quantized::weight_only_gemm(g, threads);
    return;
  }
  gemm_xwt_f32_portable(M, N, K, x, ldx, w, bias, y, ldy);
}

void gemm_xwt_f32_portable(int64_t M, int64_t N, int64_t K, const float* x, int64_t ldx,
                           const float* w, const float* bias, float* y, int64_t ldy) {
  const int64_t row_bytes = std::max<int64_t>(1, K * static_cast<int64_t>(sizeof(float)));
  const int64_t n_block = std::max<int64_t>(1, kWeightBlockBytes / row_bytes);
  for (int64_t n0 = 0; n0 < N; n0 += n_block) {
    const int64_t n1 = std::min(N, n0 + n_block);
    int64_t m = 0;
    for (; m + kRowsPerPass <= M; m += kRowsPerPass) {
      const float* xm = x + m * ldx;
      float* ym = y + m * ldy;
      for (int64_t n = n0; n < n1; ++n) {
        float acc[kRowsPerPass];
        dot4(xm, xm + ldx, xm + 2 * ldx, xm + 3 * ldx, w + n * K, K, acc);
        const float b = bias != nullptr ? bias[n] : 0.0f;
        for (int64_t r = 0; r < kRowsPerPass; ++r) ym[r * ldy + n] = acc[r] + b;
      }
    }
    for (; m < M; ++m) {
      for (int64_t n = n0; n < n1; ++n) {
        const float b = bias != nullptr ? bias[n] : 0.0f;
        y[m * ldy + n] = dot(x + m * ldx, w + n * K, K) + b;
      }
    }
  }
}

}  // namespace qrt::ops
