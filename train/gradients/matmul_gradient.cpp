#include "train/gradients/matmul_gradient.h"

#include <algorithm>
#include <vector>

#include "ops/cpu_parallel.h"
#include "ops/gemm_f32.h"
#include "ops/quantized/lane_packed_gemm.h"
#include "train/gradients/gradient_support.h"

namespace qrt::train {

namespace {

// Multiply-adds below which one thread does the whole product. A thread start and join costs
// ~50 us here, the time of 2^21-2^22 multiply-adds of these GEMMs; at 2^18 an LSTM's per-step
// 64-row products each started a thread (~400 per fine-tune step). At 2^23 a fine-tune step of
// the forecaster took 425-547 ms against 471-574 ms (six alternations), outputs unchanged.
constexpr int64_t kMinParallelMacs = int64_t{1} << 23;
// Output rows per chunk: ops/gemm_f32 processes rows four at a time.
constexpr std::size_t kRowGrain = 4;
// Transpose tile: 16×16 floats. Inside a tile the writes run along contiguous destination rows
// and the reads gather down 16 source lines; measured on a 6144×512 matrix this is ~2 ms, while
// tiles of 32 or writes along the strided side take 30-70 ms (the strided lines, often 4 KiB
// apart, collide in the same L1 sets).
constexpr int64_t kTransposeTile = 16;

// Rows from which a product first packs b by lanes (ops/quantized/lane_packed_gemm.h: one copy
// of b, N·K floats, then 16 outputs per vector and no horizontal sum per output). The per-step
// products of an LSTM (B rows) stay on gemm_xwt_f32, where packing every step would cost about
// what it saves; the B·T-row ones (input projections, their backward, the weight gradients) gain.
constexpr int64_t kMinRowsToPack = 256;

std::size_t threads_for(int64_t macs) {
  return macs < kMinParallelMacs ? 1 : ops::default_cpu_threads();
}

// out[r·ldo + n] = Σ_k a[r·lda + k] · b[n·K + k] + (bias ? bias[n] : 0) for any rows of a·bᵀ, on
// the calling thread: lane-packed when the product is large enough to pay for the packing (done
// here, before any thread starts), gemm_xwt_f32 otherwise. Each output is the same whichever rows
// a call covers.
class RowProduct {
 public:
  RowProduct(int64_t R, int64_t N, int64_t K, const float* b) : N_(N), K_(K), b_(b) {
    if (R >= kMinRowsToPack && K > 0 && ops::quantized::weight_only_gemm_available())
      packed_ =
          ops::quantized::pack_weights_by_lanes(b, ops::quantized::WeightCode::kF32, N, K, nullptr);
  }

  void operator()(int64_t rows, const float* a, int64_t lda, const float* bias, float* out,
                  int64_t ldo) const {
    if (!packed_.bytes.empty()) {
      ops::quantized::lane_packed_gemm(packed_, a, lda, rows, bias, out, ldo,
                                       ops::quantized::OutputRounding::kNone, 1);
      return;
    }
    ops::gemm_xwt_f32(rows, N_, K_, a, lda, b_, bias, out, ldo, 1);
  }

 private:
  int64_t N_, K_;
  const float* b_;
  ops::quantized::LanePackedWeights packed_;
};

}  // namespace

FloatBuffer uninitialized_floats(int64_t n) {
  return std::make_unique_for_overwrite<float[]>(static_cast<std::size_t>(std::max<int64_t>(n, 1)));
}

FloatBuffer transposed(const float* src, int64_t rows, int64_t cols, int64_t ld) {
  FloatBuffer dst = uninitialized_floats(rows * cols);
  for (int64_t r0 = 0; r0 < rows; r0 += kTransposeTile) {
    const int64_t r1 = std::min(rows, r0 + kTransposeTile);
    for (int64_t c0 = 0; c0 < cols; c0 += kTransposeTile) {
      const int64_t c1 = std::min(cols, c0 + kTransposeTile);
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t r = r0; r < r1; ++r) dst[c * rows + r] = src[r * ld + c];
    }
  }
  return dst;
}

void gemm_xwt_parallel(int64_t R, int64_t N, int64_t K, const float* a, int64_t lda, const float* b,
                       const float* bias, float* out, int64_t ldo) {
  if (R == 0 || N == 0) return;
  const RowProduct product(R, N, K, b);
  ops::parallel_split(static_cast<std::size_t>(R), kRowGrain, threads_for(R * N * K),
                      [&](std::size_t begin, std::size_t end) {
                        product(static_cast<int64_t>(end - begin), a + begin * lda, lda, bias,
                                out + begin * ldo, ldo);
                      });
}

// gemm_xwt into scratch, then added to out (the GEMM overwrites its output).
void accumulate_gemm_xwt(int64_t R, int64_t N, int64_t K, const float* a, int64_t lda,
                         const float* b, float* out, int64_t ldo) {
  if (R == 0 || N == 0 || K == 0) return;
  const FloatBuffer block = uninitialized_floats(R * N);
  const RowProduct product(R, N, K, b);
  ops::parallel_split(static_cast<std::size_t>(R), kRowGrain, threads_for(R * N * K),
                      [&](std::size_t begin, std::size_t end) {
                        const int64_t rows = static_cast<int64_t>(end - begin);
                        float* rows_out = block.get() + begin * N;
                        product(rows, a + begin * lda, lda, nullptr, rows_out, N);
                        for (int64_t r = 0; r < rows; ++r)
                          accumulate(out + (begin + r) * ldo, rows_out + r * N, N);
                      });
}

void accumulate_dy_w(int64_t M, int64_t N, int64_t K, const float* dy, int64_t lddy, const float* w,
                     float* dx, int64_t lddx) {
  if (M == 0 || K == 0) return;
  const FloatBuffer wt = transposed(w, N, K, K);  // [K, N]
  accumulate_gemm_xwt(M, K, N, dy, lddy, wt.get(), dx, lddx);
}

void accumulate_dyt_x(int64_t M, int64_t N, int64_t K, const float* dy, int64_t lddy,
                      const float* x, int64_t ldx, float* dw) {
  if (N == 0 || K == 0) return;
  const FloatBuffer dyt = transposed(dy, M, N, lddy);  // [N, M]
  const FloatBuffer xt = transposed(x, M, K, ldx);     // [K, M]
  accumulate_gemm_xwt(N, K, M, dyt.get(), M, xt.get(), dw, K);
}

void accumulate_column_sums(int64_t M, int64_t N, const float* dy, int64_t lddy, float* db) {
  std::vector<double> sums(static_cast<std::size_t>(N), 0.0);
  for (int64_t m = 0; m < M; ++m) {
    const float* row = dy + m * lddy;
#pragma omp simd
    for (int64_t n = 0; n < N; ++n) sums[n] += row[n];
  }
  for (int64_t n = 0; n < N; ++n) db[n] += static_cast<float>(sums[n]);
}

}  // namespace qrt::train
