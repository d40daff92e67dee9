// Linear in fp16 on the GPU (the CPU reference is ops/quantized/linear_half.cpp):
//   y[m, n] = half( Σ_k half(x[m, k])·W[n, k] + b[n] )     (f16 weights, f32 accumulation)
// The weight-only launchers dequantize int8 / NF4 codes and take no f16 weights, and qrt has no
// f16 tensor-core GEMM of its own, so the product is cuBLAS's (cublasGemmEx, f16 inputs, f32
// compute and output), which reaches the FP16 anchor of docs/performance.md by definition; a small
// kernel rounds x to f16 before it and applies the bias, the final f16 rounding and a fused
// activation (ir::LinearAttrs) after it.
//
// Each kernel owns its cuBLAS handle (created in prepare) and hands cuBLAS a workspace from the
// session's arena at every run, so that cuBLAS allocates nothing while a CUDA graph is captured.
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "cuda/activation_device.cuh"
#include "cuda/cuda_status.h"
#include "cuda/kernels/kernel_support.h"
#include "cuda/kernels/kernels.h"
#include "cuda/kernels/linear_support.h"

namespace qrt::cuda::kernels {

namespace {

// The workspace cuBLAS recommends for cublasSetWorkspace: 32 MiB on Hopper and later, 4 MiB on
// earlier GPUs (cuBLAS API reference, cublasSetWorkspace).
std::size_t cublas_workspace_bytes(int compute_major) {
  return (compute_major >= 9 ? std::size_t{32} : std::size_t{4}) << 20;
}

Status cublas_status(cublasStatus_t status, const std::string& label, const char* call) {
  if (status == CUBLAS_STATUS_SUCCESS) return Status::ok();
  return device_error(label + call + " failed: " + cublasGetStatusName(status) + " (" +
                      cublasGetStatusString(status) + ")");
}

// y[m, n] = half(y[m, n] + bias[n]) widened back to f32, in place (bias may be null), then the
// fused activation when `activate_output` (the CPU applies it to the rounded value too).
__global__ void __launch_bounds__(kElementwiseThreads)
    bias_round_kernel(float* y, int64_t rows, int64_t cols, const float* bias, bool activate_output,
                      ActivationKind activation) {
  const int64_t n = rows * cols;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    const float v = y[i] + (bias != nullptr ? bias[i % cols] : 0.0f);
    const float rounded = __half2float(__float2half_rn(v));
    y[i] = activate_output ? activate(activation, rounded, 0.0f) : rounded;
  }
}

class CublasHandle {
 public:
  CublasHandle() = default;
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  ~CublasHandle() {
    if (handle_ != nullptr) (void)cublasDestroy(handle_);  // nothing to report it to
  }
  Status create(const std::string& label) {
    if (handle_ != nullptr) return Status::ok();
    return cublas_status(cublasCreate(&handle_), label, "cublasCreate");
  }
  cublasHandle_t get() const { return handle_; }

 private:
  cublasHandle_t handle_ = nullptr;
};

class LinearHalfKernel final : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    QRT_ASSIGN_OR_RETURN(p_, check_linear(ir::Precision::kFP16, ctx));
    cublas_workspace_bytes_ = cublas_workspace_bytes(p_.compute_major);
    constexpr int64_t kIntMax = std::numeric_limits<int>::max();
    if (p_.M > kIntMax || p_.N > kIntMax || p_.K > kIntMax)
      return node_unsupported(
          node, "cublasGemmEx takes int dimensions: M = " + std::to_string(p_.M) +
                    ", N = " + std::to_string(p_.N) + ", K = " + std::to_string(p_.K));
    const auto bytes = static_cast<std::size_t>(p_.N * p_.K) * sizeof(uint16_t);
    QRT_ASSIGN_OR_RETURN(const unsigned char* bits, constant_bytes(node, *p_.weight, bytes));
    QRT_ASSIGN_OR_RETURN(weight_, upload_bytes(bits, bytes));
    QRT_ASSIGN_OR_RETURN(bias_, upload_linear_bias(node, p_));
    return handle_.create(p_.label);
  }

  std::size_t workspace_bytes() const override {
    DeviceWorkspace ws;
    ws.take<__half>(p_.M * p_.K);
    ws.take_bytes(cublas_workspace_bytes_);
    return ws.used();
  }

  Status run(const runtime::RunContext& ctx) override {
    QRT_RETURN_IF_ERROR(check_linear_views(p_, ctx));
    if (p_.M == 0 || p_.N == 0) return Status::ok();
    DeviceWorkspace ws(ctx.workspace);
    QRT_ASSIGN_OR_RETURN(const __half* x16, round_x_to_half(p_, ctx, ws));
    void* cublas_workspace = ws.take_bytes(cublas_workspace_bytes_);
    const cudaStream_t stream = stream_of(ctx);
    auto* y = ctx.outputs[0].as<float>();

    // cublasSetStream resets the workspace to the default pool, so the workspace follows it.
    QRT_RETURN_IF_ERROR(
        cublas_status(cublasSetStream(handle_.get(), stream), p_.label, "cublasSetStream"));
    QRT_RETURN_IF_ERROR(
        cublas_status(cublasSetWorkspace(handle_.get(), cublas_workspace, cublas_workspace_bytes_),
                      p_.label, "cublasSetWorkspace"));
    // Column-major view of the row-major product: yᵀ [N, M] = W [N, K] · x16ᵀ [K, M], where the
    // row-major W [N, K] is the column-major K×N matrix (hence op T) and x16 the column-major K×M.
    const float alpha = 1.0f, beta = 0.0f;
    QRT_RETURN_IF_ERROR(
        cublas_status(cublasGemmEx(handle_.get(), CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(p_.N),
                                   static_cast<int>(p_.M), static_cast<int>(p_.K), &alpha,
                                   weight_.data(), CUDA_R_16F, static_cast<int>(p_.K), x16,
                                   CUDA_R_16F, static_cast<int>(p_.K), &beta, y, CUDA_R_32F,
                                   static_cast<int>(p_.N), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                      p_.label, "cublasGemmEx"));

    bias_round_kernel<<<elementwise_blocks(p_.M * p_.N, p_.multiprocessors), kElementwiseThreads, 0,
                        stream>>>(y, p_.M, p_.N, bias_.as<const float>(), p_.activation.has_value(),
                                  p_.activation.value_or(ActivationKind::kRelu));
    QRT_CUDA_RETURN_IF_ERROR(cudaGetLastError());
    return Status::ok();
  }

  std::string describe() const override {
    return "cuBLAS f16 GEMM, f32 accumulation" + fused_activation_note(p_);
  }

 private:
  LinearProblem p_;
  DeviceBuffer weight_;  // f16 [N, K]
  DeviceBuffer bias_;    // f32 [N] or empty
  std::size_t cublas_workspace_bytes_ = 0;
  CublasHandle handle_;
};

}  // namespace

void register_linear_half_kernel(runtime::KernelRegistry& registry) {
  add_cuda_entry(
      registry, ir::OpKind::kLinear, "cuda.linear.fp16",
      [](const ir::Graph& g, const ir::Node& n) {
        return supports_linear(ir::Precision::kFP16, g, n);
      },
      [] { return std::make_unique<LinearHalfKernel>(); });
}

}  // namespace qrt::cuda::kernels
