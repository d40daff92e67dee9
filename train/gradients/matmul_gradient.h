// The two products of a y = x·Wᵀ layer's backward (Linear, and LSTM's gate projections), written on
// the forward GEMM ops/gemm_f32.h (y = x·Wᵀ with W [N, K]) by handing it transposed operands:
//   dx = dy·W     = gemm_xwt(dy, Wᵀ)      [M, K]
//   dW = dyᵀ·x    = gemm_xwt(dyᵀ, xᵀ)     [N, K]
// The (cache-blocked) transposes cost O(M·N + M·K + N·K), small next to the O(M·N·K) products.
// Every product splits its output rows over the CPU's threads when the work is large enough to
// pay for the thread starts. Scratch is allocated before any thread starts, so an allocation
// failure (std::bad_alloc) reaches the caller's thread; backward() turns it into a Status.
#pragma once

#include <cstdint>
#include <memory>

namespace qrt::train {

using FloatBuffer = std::unique_ptr<float[]>;

// n floats, not initialized (no pass over memory that is about to be overwritten).
FloatBuffer uninitialized_floats(int64_t n);

// dst[c·rows + r] = src[r·ld + c]: the [cols, rows] transpose of a [rows, cols] matrix with row
// stride ld.
FloatBuffer transposed(const float* src, int64_t rows, int64_t cols, int64_t ld);

// out[r·ldo + n] = Σ_k a[r·lda + k] · b[n·K + k] + (bias ? bias[n] : 0)   for r < R, n < N: the
// forward product on both cores: gemm_xwt_f32, or from 256 rows the lane-packed GEMM on a packed
// copy of b (faster there; each output rounds differently from gemm_xwt_f32's by float rounding).
// Rows are split at multiples of four, and each output is the same however the rows are split.
void gemm_xwt_parallel(int64_t R, int64_t N, int64_t K, const float* a, int64_t lda, const float* b,
                       const float* bias, float* out, int64_t ldo);

// out[r·ldo + n] += Σ_k a[r·lda + k] · b[n·K + k]    for r < R, n < N   (b is [N, K]).
void accumulate_gemm_xwt(int64_t R, int64_t N, int64_t K, const float* a, int64_t lda,
                         const float* b, float* out, int64_t ldo);

// dx[m·lddx + k] += Σ_n dy[m·lddy + n] · w[n·K + k]    for m < M, k < K   (w is [N, K]).
void accumulate_dy_w(int64_t M, int64_t N, int64_t K, const float* dy, int64_t lddy, const float* w,
                     float* dx, int64_t lddx);

// dw[n·K + k] += Σ_m dy[m·lddy + n] · x[m·ldx + k]      for n < N, k < K.
void accumulate_dyt_x(int64_t M, int64_t N, int64_t K, const float* dy, int64_t lddy,
                      const float* x, int64_t ldx, float* dw);

// db[n] += Σ_m dy[m·lddy + n]   (summed in double: M is often thousands of rows).
void accumulate_column_sums(int64_t M, int64_t N, const float* dy, int64_t lddy, float* db);

}  // namespace qrt::train
