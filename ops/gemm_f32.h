// The float matrix product behind every CPU reference kernel with weights (Linear, and LSTM's input
// and recurrent projections), with the weight in PyTorch's Linear layout [N, K].
#pragma once

#include <cstddef>
#include <cstdint>

namespace qrt::ops {

// y[m·ldy + n] = Σ_k x[m·ldx + k] · w[n·K + k] + (bias ? bias[n] : 0)   for m < M, n < N.
//
// `w` is [N, K] row-major and is read in place, never copied (it may live in a memory-mapped model
// file). Each output is one contiguous dot product accumulated in float (vectorized, so the
// summation order differs from a sequential loop by a few ulps·K). `ldx`/`ldy` are the row strides
// of x and y, which lets LSTM feed strided time steps without a copy. x and y must not overlap.
// On AVX-512 CPUs the products run 16 lanes wide and large ones split N over up to `threads`
// threads (kernels pass default_cpu_threads(); a caller that already runs it on several threads
// passes 1, so the cores are not oversubscribed); elsewhere gemm_xwt_f32_portable (the same
// contract, plain loops, one thread) runs. The result does not depend on `threads`.
void gemm_xwt_f32(int64_t M, int64_t N, int64_t K, const float* x, int64_t ldx, const float* w,
                  const float* bias, float* y, int64_t ldy, std::size_t threads);
void gemm_xwt_f32_portable(int64_t M, int64_t N, int64_t K, const float* x, int64_t ldx,
                           const float* w, const float* bias, float* y, int64_t ldy);

}  // namespace qrt::ops
