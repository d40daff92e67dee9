// Fused LayerNorm (+ activation) (+ dynamic per-row int8 quantization): kernel and launcher. The
// formulas are in layer_norm.cuh.
//
// One block per row. The row is read from global memory once per pass (sum, squared deviations,
// absmax when quantizing, output); after the first pass it sits in L1/L2, so the later passes
// cost little, and no shared-memory row buffer limits D.
#include "cuda/layer_norm.cuh"

#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "cuda/activation_device.cuh"
#include "cuda/cuda_status.h"
#include "cuda/element_convert.cuh"

namespace qrt::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kWarpSize = 32;
constexpr int kWarps = kThreads / kWarpSize;
constexpr unsigned kFullMask = 0xffffffffu;
constexpr float kInt8Max = 127.0f;
// Block-wide reductions through one shared word per warp; every thread gets the result. The
// trailing __syncthreads lets the caller reuse `scratch` for the next reduction.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2)
    v += __shfl_xor_sync(kFullMask, v, offset);
  if (threadIdx.x % kWarpSize == 0) scratch[threadIdx.x / kWarpSize] = v;
  __syncthreads();
  float total = 0.0f;
  for (int w = 0; w < kWarps; ++w) total += scratch[w];
  __syncthreads();
  return total;
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2)
    v = fmaxf(v, __shfl_xor_sync(kFullMask, v, offset));
  if (threadIdx.x % kWarpSize == 0) scratch[threadIdx.x / kWarpSize] = v;
  __syncthreads();
  float m = 0.0f;
  for (int w = 0; w < kWarps; ++w) m = fmaxf(m, scratch[w]);
  __syncthreads();
  return m;
}

struct KernelArgs {
  int64_t cols;
  float eps;
  const float* gamma;
  const float* beta;
  bool fuse_activation;
  ActivationKind activation;
  float activation_param;
  int8_t* q;
  float* q_scales;
};

template <typename In, typename Out>
__global__ void __launch_bounds__(kThreads)
    layer_norm_kernel(const In* x, Out* y, const KernelArgs a) {
  __shared__ float scratch[kWarps];
  const int64_t row = blockIdx.x;
  const int64_t D = a.cols;
  const In* xr = x + row * D;

  float sum = 0.0f;
  for (int64_t d = threadIdx.x; d < D; d += kThreads) sum += to_float(xr[d]);
  const float mean = block_sum(sum, scratch) / static_cast<float>(D);
  float squares = 0.0f;
  for (int64_t d = threadIdx.x; d < D; d += kThreads) {
    const float dev = to_float(xr[d]) - mean;
    squares += dev * dev;
  }
  const float var = block_sum(squares, scratch) / static_cast<float>(D);
  // 1/√(var + eps) correctly rounded-ish (rsqrtf is 2 ulp; the reference uses double).
  const float inv_std = 1.0f / sqrtf(var + a.eps);

  auto value = [&](int64_t d) {
    float v = (to_float(xr[d]) - mean) * inv_std;
    if (a.gamma != nullptr) v *= a.gamma[d];
    if (a.beta != nullptr) v += a.beta[d];
    if (a.fuse_activation) v = activate(a.activation, v, a.activation_param);
    return v;
  };

  float scale = 1.0f;
  if (a.q != nullptr) {
    float m = 0.0f;
    for (int64_t d = threadIdx.x; d < D; d += kThreads) m = fmaxf(m, fabsf(value(d)));
    m = block_max(m, scratch);
    // s = max|v| / 127 in double then rounded to float (ir::quantize_symmetric; the smallest
    // positive float when that rounds to 0), 1 for an all-zero row.
    if (m > 0.0f) {
      scale = static_cast<float>(static_cast<double>(m) / 127.0);
      if (scale == 0.0f) scale = __int_as_float(1);  // the smallest subnormal
    }
    if (threadIdx.x == 0) a.q_scales[row] = scale;
  }
  for (int64_t d = threadIdx.x; d < D; d += kThreads) {
    const float v = value(d);
    if (y != nullptr) store(y + row * D, d, v);
    if (a.q != nullptr)
      a.q[row * D + d] = static_cast<int8_t>(fminf(fmaxf(rintf(v / scale), -kInt8Max), kInt8Max));
  }
}

template <typename In, typename Out>
Status launch_typed(const LayerNormArgs& args, const KernelArgs& kernel_args, cudaStream_t stream) {
  layer_norm_kernel<In, Out><<<static_cast<unsigned>(args.rows), kThreads, 0, stream>>>(
      static_cast<const In*>(args.x), static_cast<Out*>(args.y), kernel_args);
  QRT_CUDA_RETURN_IF_ERROR(cudaGetLastError());
  return Status::ok();
}

bool is_half_or_float(ir::DType dtype) {
  return dtype == ir::DType::kF32 || dtype == ir::DType::kF16;
}

std::size_t element_bytes(ir::DType dtype) {
  return dtype == ir::DType::kF16 ? 2 : 4;
}

bool overlaps(const void* a, std::size_t a_bytes, const void* b, std::size_t b_bytes) {
  const auto a0 = reinterpret_cast<std::uintptr_t>(a);
  const auto b0 = reinterpret_cast<std::uintptr_t>(b);
  return a0 < b0 + b_bytes && b0 < a0 + a_bytes;
}

}  // namespace

Status launch_layer_norm(const LayerNormArgs& args, cudaStream_t stream) {
  const std::string where = "launch_layer_norm: ";
  if (args.rows < 0)
    return invalid_argument(where + "rows = " + std::to_string(args.rows) + " is negative");
  if (args.cols < 1)
    return invalid_argument(where + "cols = " + std::to_string(args.cols) + " must be >= 1");
  if (args.rows > std::numeric_limits<int32_t>::max())
    return invalid_argument(where + "rows = " + std::to_string(args.rows) +
                            " exceeds the grid limit");
  if (args.cols > std::numeric_limits<int64_t>::max() / 4 / (args.rows > 0 ? args.rows : 1))
    return invalid_argument(where + "rows x cols overflows a byte size");
  if (!std::isfinite(args.eps) || args.eps < 0.0f)
    return invalid_argument(where + "eps = " + std::to_string(args.eps) +
                            " must be finite and >= 0");
  if (!is_half_or_float(args.x_dtype))
    return invalid_argument(where + "x dtype " + ir::dtype_name(args.x_dtype) +
                            " is not f32 or f16");
  if (!is_half_or_float(args.y_dtype))
    return invalid_argument(where + "y dtype " + ir::dtype_name(args.y_dtype) +
                            " is not f32 or f16");
  const int raw_activation = static_cast<int>(args.activation);
  if (args.fuse_activation && (raw_activation < 0 || raw_activation >= kNumActivationKinds))
    return invalid_argument(where + "unknown activation kind " + std::to_string(raw_activation));
  if (args.y == nullptr && args.q == nullptr)
    return invalid_argument(where + "neither y nor q is given: nothing to write");
  if (args.q != nullptr && args.q_scales == nullptr)
    return invalid_argument(where + "q is given without q_scales");
  if (args.rows == 0) return Status::ok();
  if (args.x == nullptr) return invalid_argument(where + "x is null");
  const auto n = static_cast<std::size_t>(args.rows * args.cols);
  const std::size_t x_bytes = n * element_bytes(args.x_dtype);
  if (reinterpret_cast<std::uintptr_t>(args.x) % element_bytes(args.x_dtype) != 0)
    return invalid_argument(where + "x is not aligned to its element size");
  if (args.y != nullptr) {
    if (reinterpret_cast<std::uintptr_t>(args.y) % element_bytes(args.y_dtype) != 0)
      return invalid_argument(where + "y is not aligned to its element size");
    if (overlaps(args.x, x_bytes, args.y, n * element_bytes(args.y_dtype)))
      return invalid_argument(where + "y overlaps x (each row of x is read in several passes)");
  }
  if (args.q != nullptr && overlaps(args.x, x_bytes, args.q, n))
    return invalid_argument(where + "q overlaps x");
  for (const auto& [pointer, name] : {std::pair<const void*, const char*>{args.gamma, "gamma"},
                                      {args.beta, "beta"},
                                      {args.q_scales, "q_scales"}}) {
    if (pointer != nullptr && reinterpret_cast<std::uintptr_t>(pointer) % alignof(float) != 0)
      return invalid_argument(where + name + " is not 4-byte aligned");
  }

  const KernelArgs kernel_args{args.cols,
                               args.eps,
                               args.gamma,
                               args.beta,
                               args.fuse_activation,
                               args.activation,
                               args.activation_param,
                               args.q,
                               args.q_scales};
  const bool half_in = args.x_dtype == ir::DType::kF16;
  const bool half_out = args.y_dtype == ir::DType::kF16;
  if (half_in && half_out) return launch_typed<__half, __half>(args, kernel_args, stream);
  if (half_in) return launch_typed<__half, float>(args, kernel_args, stream);
  if (half_out) return launch_typed<float, __half>(args, kernel_args, stream);
  return launch_typed<float, float>(args, kernel_args, stream);
}

}  // namespace qrt::cuda
