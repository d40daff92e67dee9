// Per-row symmetric int8 quantization: kernel and launchers (formulas in quantize_rows.cuh).
//
// One thread block per row: pass 1 reduces max|x| over the row (each thread strides over the
// columns, then warp shuffles and one shared-memory step combine the partial maxima); thread 0
// derives the scale; pass 2 re-reads the row (now in L1/L2) and writes the codes. Reads and writes
// are coalesced: consecutive threads touch consecutive columns.
#include "cuda/quantize_rows.cuh"

#include <limits>
#include <string>

#include "cuda/cuda_status.h"
#include "cuda/element_convert.cuh"

namespace qrt::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kQMax = 127;

template <typename T>
__global__ void __launch_bounds__(kThreads)
    quantize_rows_kernel(const T* __restrict__ x, int64_t cols, int8_t* __restrict__ q,
                         float* __restrict__ scales, const int32_t* __restrict__ zero_columns) {
  __shared__ float warp_max[kWarps];
  __shared__ float row_scale;
  const int64_t row = blockIdx.x;
  const T* x_row = x + row * cols;
  int8_t* q_row = q + row * cols;

  float local_max = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) {
    if (zero_columns != nullptr && zero_columns[c] != 0) continue;
    local_max = fmaxf(local_max, fabsf(to_float(x_row[c])));
  }
  for (int offset = 16; offset > 0; offset /= 2) {
    local_max = fmaxf(local_max, __shfl_xor_sync(0xffffffffu, local_max, offset));
  }
  if (threadIdx.x % 32 == 0) warp_max[threadIdx.x / 32] = local_max;
  __syncthreads();
  if (threadIdx.x == 0) {
    float absmax = 0.0f;
    for (int w = 0; w < kWarps; ++w) absmax = fmaxf(absmax, warp_max[w]);
    // s = absmax / 127 computed in double and rounded once to float, as ir::quantize_symmetric
    // does; a result that underflows to 0 becomes the smallest positive float (positive_scale).
    float s = 1.0f;
    if (absmax != 0.0f) {
      s = __double2float_rn(static_cast<double>(absmax) / kQMax);
      if (!(s > 0.0f)) s = 1.40129846e-45f;  // std::numeric_limits<float>::denorm_min()
    }
    row_scale = s;
    scales[row] = s;
  }
  __syncthreads();
  const float s = row_scale;
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) {
    const bool zeroed = zero_columns != nullptr && zero_columns[c] != 0;
    const float v = zeroed ? 0.0f : to_float(x_row[c]);
    // round-half-even of the IEEE quotient (std::nearbyint(x / s) on the CPU), clamped in float.
    const float r = rintf(__fdiv_rn(v, s));
    q_row[c] =
        static_cast<int8_t>(fminf(fmaxf(r, -static_cast<float>(kQMax)), static_cast<float>(kQMax)));
  }
}

template <typename T>
Status launch(const char* type_name, const T* x, int64_t rows, int64_t cols, int8_t* q,
              float* scales, const int32_t* zero_columns, cudaStream_t stream) {
  const std::string where = std::string("launch_quantize_rows(") + type_name +
                            ", rows = " + std::to_string(rows) +
                            ", cols = " + std::to_string(cols) + "): ";
  if (rows < 0) return invalid_argument(where + "rows is negative");
  if (cols <= 0) return invalid_argument(where + "cols must be > 0");
  if (rows == 0) return Status::ok();
  if (rows > std::numeric_limits<int32_t>::max()) {
    return invalid_argument(where + "more rows than a 1-D grid holds (2^31 - 1)");
  }
  if (cols > std::numeric_limits<int64_t>::max() / rows / static_cast<int64_t>(sizeof(T))) {
    return invalid_argument(where + "rows·cols overflows a byte size");
  }
  if (x == nullptr) return invalid_argument(where + "x is null");
  if (q == nullptr) return invalid_argument(where + "q is null");
  if (scales == nullptr) return invalid_argument(where + "scales is null");
  quantize_rows_kernel<T>
      <<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(x, cols, q, scales, zero_columns);
  QRT_CUDA_RETURN_IF_ERROR(cudaGetLastError());
  return Status::ok();
}

}  // namespace

Status launch_quantize_rows(const float* x, int64_t rows, int64_t cols, int8_t* q, float* scales,
                            const int32_t* zero_columns, cudaStream_t stream) {
  return launch("f32", x, rows, cols, q, scales, zero_columns, stream);
}

Status launch_quantize_rows(const __half* x, int64_t rows, int64_t cols, int8_t* q, float* scales,
                            const int32_t* zero_columns, cudaStream_t stream) {
  return launch("f16", x, rows, cols, q, scales, zero_columns, stream);
}

}  // namespace qrt::cuda
