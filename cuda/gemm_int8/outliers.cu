// LLM.int8() outlier decomposition (formulas in outliers.cuh): mark outlier columns, list them in
// ascending order (deterministic summation order), quantize x per row without them, compute their
// float contribution as an f32 addend, and run the fused int8 GEMM with that addend.
#include "cuda/gemm_int8/outliers.cuh"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "cuda/cuda_status.h"
#include "cuda/element_convert.cuh"
#include "cuda/gemm_int8/gemm_int8.cuh"
#include "cuda/quantize_rows.cuh"

namespace qrt::cuda::gemm_int8 {
namespace {

constexpr int kThreads = 256;
constexpr int kCompactThreads = 1024;
constexpr std::size_t kPieceAlignment = 256;

// flags[k] = 1 where some |x[m, k]| > threshold (flags zeroed beforehand; concurrent writers all
// store 1, so the race is benign). NaN compares false and is never an outlier.
template <typename T>
__global__ void __launch_bounds__(kThreads)
    mark_outlier_columns(const T* __restrict__ x, int64_t total, int64_t k, float threshold,
                         int32_t* __restrict__ flags) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    if (fabsf(to_float(x[i])) > threshold) flags[i % k] = 1;
  }
}

// One block of 1024 threads writes the flagged column indices in ascending order to `list` and
// their number to `count`: per 1024-column chunk, a ballot gives each flagged column its rank
// within its warp and the warp totals its offset within the chunk.
__global__ void __launch_bounds__(kCompactThreads)
    compact_outlier_columns(const int32_t* __restrict__ flags, int64_t k,
                            int32_t* __restrict__ list, int32_t* __restrict__ count) {
  __shared__ int warp_totals[kCompactThreads / 32];
  __shared__ int base;
  const int lane = static_cast<int>(threadIdx.x % 32);
  const int warp = static_cast<int>(threadIdx.x / 32);
  if (threadIdx.x == 0) base = 0;
  __syncthreads();
  for (int64_t c0 = 0; c0 < k; c0 += kCompactThreads) {
    const int64_t c = c0 + threadIdx.x;
    const bool flagged = c < k && flags[c] != 0;
    const unsigned ballot = __ballot_sync(0xffffffffu, flagged);
    if (lane == 0) warp_totals[warp] = __popc(ballot);
    __syncthreads();
    int before = 0;
    for (int w = 0; w < warp; ++w) before += warp_totals[w];
    const int rank_in_warp = __popc(ballot & ((1u << lane) - 1u));
    if (flagged) list[base + before + rank_in_warp] = static_cast<int32_t>(c);
    __syncthreads();  // every thread has read `base` and warp_totals
    if (threadIdx.x == 0) {
      int total = 0;
      for (int w = 0; w < kCompactThreads / 32; ++w) total += warp_totals[w];
      base += total;
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) *count = base;
}

// addend[m, n] = s_w[n]·Σ_{j < count} x[m, list[j]]·w[n, list[j]]   (f32, ascending column order)
template <typename T>
__global__ void __launch_bounds__(kThreads)
    outlier_addend(const T* __restrict__ x, const int8_t* __restrict__ w,
                   const float* __restrict__ w_scales, int64_t m, int64_t n, int64_t k,
                   const int32_t* __restrict__ list, const int32_t* __restrict__ count,
                   float* __restrict__ addend) {
  const int outliers = *count;
  const int64_t total = m * n;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const int64_t row = i / n;
    const int64_t col = i % n;
    float sum = 0.0f;
    for (int j = 0; j < outliers; ++j) {
      const int64_t c = list[j];
      sum += to_float(x[row * k + c]) * static_cast<float>(w[col * k + c]);
    }
    addend[i] = sum * w_scales[col];
  }
}

std::size_t round_up(std::size_t bytes) {
  return (bytes + kPieceAlignment - 1) / kPieceAlignment * kPieceAlignment;
}

struct WorkspaceLayout {
  std::size_t flags, list, count, codes, scales, addend, total;
};

WorkspaceLayout layout(int64_t m, int64_t n, int64_t k) {
  WorkspaceLayout l{};
  std::size_t offset = 0;
  auto take = [&offset](std::size_t bytes) {
    const std::size_t at = offset;
    offset += round_up(bytes);
    return at;
  };
  const auto um = static_cast<std::size_t>(m);
  const auto un = static_cast<std::size_t>(n);
  const auto uk = static_cast<std::size_t>(k);
  l.flags = take(uk * sizeof(int32_t));
  l.list = take(uk * sizeof(int32_t));
  l.count = take(sizeof(int32_t));
  l.codes = take(um * uk);
  l.scales = take(um * sizeof(float));
  l.addend = take(um * un * sizeof(float));
  l.total = offset;
  return l;
}

Result<int> grid_for(int64_t work) {
  int device = 0;
  int multiprocessors = 0;
  QRT_CUDA_RETURN_IF_ERROR(cudaGetDevice(&device));
  QRT_CUDA_RETURN_IF_ERROR(
      cudaDeviceGetAttribute(&multiprocessors, cudaDevAttrMultiProcessorCount, device));
  const int64_t needed = (work + kThreads - 1) / kThreads;
  const int64_t cap = static_cast<int64_t>(multiprocessors) * 8;
  return static_cast<int>(std::max<int64_t>(1, std::min(needed, cap)));
}

template <typename T>
Status launch_outliers(const char* type_name, const T* x, const int8_t* w, const float* w_scales,
                       int64_t m, int64_t n, int64_t k, float threshold,
                       const EpilogueSpec& epilogue, void* y, int config, void* workspace,
                       std::size_t workspace_bytes, cudaStream_t stream) {
  const std::string where = std::string("launch_gemm_int8_outliers(") + type_name +
                            ", M = " + std::to_string(m) + ", N = " + std::to_string(n) +
                            ", K = " + std::to_string(k) + "): ";
  if (epilogue.row_scales != nullptr || epilogue.column_scales != nullptr ||
      epilogue.addend != nullptr) {
    return invalid_argument(where +
                            "epilogue row_scales, column_scales and addend must be null (the "
                            "outlier path supplies them)");
  }
  if (epilogue.output == GemmOutput::kS32) {
    return invalid_argument(where + "s32 output has no epilogue to add the outlier part to");
  }
  if (!(threshold >= 0.0f)) {
    return invalid_argument(where + "threshold " + std::to_string(threshold) +
                            " must be >= 0 (LLM.int8() uses 6)");
  }
  QRT_RETURN_IF_ERROR(can_implement(m, n, k, kNumTileConfigs - 1, epilogue).with_context(where));
  if (m == 0 || n == 0) return Status::ok();
  if (x == nullptr) return invalid_argument(where + "x is null");
  if (w == nullptr) return invalid_argument(where + "w is null");
  if (w_scales == nullptr) return invalid_argument(where + "w_scales is null");
  if (workspace == nullptr) return invalid_argument(where + "workspace is null");
  // The int32 flags and the int8 codes (the GEMM's 16-byte cp.async source) sit at 256-byte
  // offsets from the workspace start.
  if (reinterpret_cast<std::uintptr_t>(workspace) % 16 != 0) {
    return invalid_argument(where + "workspace is not 16-byte aligned");
  }
  const WorkspaceLayout l = layout(m, n, k);
  if (workspace_bytes < l.total) {
    return invalid_argument(where + "workspace of " + std::to_string(workspace_bytes) +
                            " bytes, needs " + std::to_string(l.total) +
                            " (outlier_workspace_size)");
  }
  if (k > std::numeric_limits<int32_t>::max()) return invalid_argument(where + "K too large");
  auto* base = static_cast<unsigned char*>(workspace);
  auto* flags = reinterpret_cast<int32_t*>(base + l.flags);
  auto* list = reinterpret_cast<int32_t*>(base + l.list);
  auto* count = reinterpret_cast<int32_t*>(base + l.count);
  auto* codes = reinterpret_cast<int8_t*>(base + l.codes);
  auto* scales = reinterpret_cast<float*>(base + l.scales);
  auto* addend = reinterpret_cast<float*>(base + l.addend);

  QRT_CUDA_RETURN_IF_ERROR(
      cudaMemsetAsync(flags, 0, static_cast<std::size_t>(k) * sizeof(int32_t), stream));
  QRT_ASSIGN_OR_RETURN(const int mark_blocks, grid_for(m * k));
  mark_outlier_columns<T><<<mark_blocks, kThreads, 0, stream>>>(x, m * k, k, threshold, flags);
  QRT_CUDA_RETURN_IF_ERROR(cudaGetLastError());
  compact_outlier_columns<<<1, kCompactThreads, 0, stream>>>(flags, k, list, count);
  QRT_CUDA_RETURN_IF_ERROR(cudaGetLastError());
  QRT_RETURN_IF_ERROR(launch_quantize_rows(x, m, k, codes, scales, flags, stream));
  QRT_ASSIGN_OR_RETURN(const int addend_blocks, grid_for(m * n));
  outlier_addend<T>
      <<<addend_blocks, kThreads, 0, stream>>>(x, w, w_scales, m, n, k, list, count, addend);
  QRT_CUDA_RETURN_IF_ERROR(cudaGetLastError());

  EpilogueSpec full = epilogue;
  full.row_scales = scales;
  full.column_scales = w_scales;
  full.addend = addend;
  return launch_gemm_int8(codes, w, m, n, k, full, y, config, nullptr, 0, stream);
}

}  // namespace

std::size_t outlier_workspace_size(int64_t m, int64_t n, int64_t k) {
  if (m < 0 || n < 0 || k < 0) return 0;
  return layout(m, n, k).total;
}

Status launch_gemm_int8_outliers(const float* x, const int8_t* w, const float* w_scales, int64_t m,
                                 int64_t n, int64_t k, float threshold,
                                 const EpilogueSpec& epilogue, void* y, int config, void* workspace,
                                 std::size_t workspace_bytes, cudaStream_t stream) {
  return launch_outliers("f32", x, w, w_scales, m, n, k, threshold, epilogue, y, config, workspace,
                         workspace_bytes, stream);
}

Status launch_gemm_int8_outliers(const __half* x, const int8_t* w, const float* w_scales, int64_t m,
                                 int64_t n, int64_t k, float threshold,
                                 const EpilogueSpec& epilogue, void* y, int config, void* workspace,
                                 std::size_t workspace_bytes, cudaStream_t stream) {
  return launch_outliers("f16", x, w, w_scales, m, n, k, threshold, epilogue, y, config, workspace,
                         workspace_bytes, stream);
}

}  // namespace qrt::cuda::gemm_int8
