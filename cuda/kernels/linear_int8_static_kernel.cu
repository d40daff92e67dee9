// Linear in int8-static on the GPU (the CPU reference is ops/quantized/linear_int8_static.cpp):
// x quantized with its calibrated per-tensor scale s_x and zero point z_x, then the fused int8
// GEMM. Affine (uint8-range) codes are stored shifted by 128 so that the s8·s8 GEMM applies, as
// on the CPU; the zero point is folded per output channel:
//   qx         = clamp(round_half_even(x / s_x) + z_x, qmin, qmax) − offset
//   y[m, n]    = s_x·s_w[n]·(Σ_k qx·qw[n, k] − (z_x − offset)·Σ_k qw[n, k]) + b[n]
//              = acc·c[n] + b'[n],  c[n] = s_x·s_w[n],  b'[n] = b[n] − c[n]·(z_x − offset)·Σ_k qw
// c and b' are computed in prepare, so the GEMM epilogue (column scales + bias) does all of it.
// The CPU subtracts the fold in int32 before converting; here it is subtracted in float, which
// differs by the float rounding of acc·c (a relative 2^-24 of |acc·c|). A fused activation
// (ir::LinearAttrs) runs in the same epilogue, after b'.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cuda/cuda_status.h"
#include "cuda/gemm_int8/gemm_int8.cuh"
#include "cuda/kernels/kernel_support.h"
#include "cuda/kernels/kernels.h"
#include "cuda/kernels/linear_support.h"

namespace qrt::cuda::kernels {

namespace {

constexpr int32_t kUint8Offset = 128;

// q[i] = clamp(rint(x[i] / scale) + zero_point, qmin, qmax) − offset. rintf rounds half to even
// as std::nearbyint does on the CPU; NaN takes the zero point's code as in quantize_row_fixed.
__global__ void __launch_bounds__(kElementwiseThreads)
    quantize_fixed_kernel(const float* x, int64_t n, float scale, float zero_point, float qmin,
                          float qmax, int32_t offset, int8_t* q) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    const float r = rintf(x[i] / scale) + zero_point;
    const float code = isnan(r) ? zero_point : fminf(fmaxf(r, qmin), qmax);
    q[i] = static_cast<int8_t>(static_cast<int32_t>(code) - offset);
  }
}

class LinearInt8StaticKernel final : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    QRT_ASSIGN_OR_RETURN(p_, check_linear(ir::Precision::kInt8Static, ctx));
    QRT_ASSIGN_OR_RETURN(quant_, ir::fixed_activation_quant(node, *p_.x));
    offset_ = quant_.qmin >= 0 ? kUint8Offset : 0;
    config_ = gemm_int8::select_tile_config(p_.M, p_.N, p_.K, p_.multiprocessors);
    const Status fits = gemm_int8::can_implement(p_.M, p_.N, p_.K, config_, {});
    if (!fits.is_ok())
      return node_unsupported(node, "the int8 GEMM cannot run this Linear: " + fits.message());

    QRT_ASSIGN_OR_RETURN(const std::vector<float> w_scales,
                         int8_weight_scales(node, *p_.weight, p_.N));
    const auto weight_bytes = static_cast<std::size_t>(p_.N * p_.K);
    QRT_ASSIGN_OR_RETURN(const unsigned char* bytes,
                         constant_bytes(node, *p_.weight, weight_bytes));
    const auto* codes = reinterpret_cast<const int8_t*>(bytes);
    std::vector<float> bias(static_cast<std::size_t>(p_.N), 0.0f);
    if (p_.bias != nullptr) {
      QRT_ASSIGN_OR_RETURN(bias, constant_floats(node, *p_.bias, p_.N));
    }
    std::vector<float> column_scales(static_cast<std::size_t>(p_.N));
    const int32_t z = quant_.zero_point - offset_;
    for (int64_t n = 0; n < p_.N; ++n) {
      int64_t row_sum = 0;
      for (int64_t k = 0; k < p_.K; ++k) row_sum += codes[n * p_.K + k];
      const auto i = static_cast<std::size_t>(n);
      column_scales[i] = quant_.scale * w_scales[i];
      bias[i] = static_cast<float>(static_cast<double>(bias[i]) -
                                   static_cast<double>(column_scales[i]) * z * row_sum);
    }
    QRT_ASSIGN_OR_RETURN(weight_, upload_bytes(codes, weight_bytes));
    QRT_ASSIGN_OR_RETURN(column_scales_, upload(column_scales));
    QRT_ASSIGN_OR_RETURN(bias_, upload(bias));
    return Status::ok();
  }

  std::size_t workspace_bytes() const override {
    DeviceWorkspace ws;
    ws.take<int8_t>(p_.M * p_.K);
    ws.take_bytes(gemm_int8::workspace_size(p_.M, p_.N, p_.K, config_));
    return ws.used();
  }

  Status run(const runtime::RunContext& ctx) override {
    QRT_RETURN_IF_ERROR(check_linear_views(p_, ctx));
    if (p_.M == 0 || p_.N == 0) return Status::ok();
    DeviceWorkspace ws(ctx.workspace);
    int8_t* qx = ws.take<int8_t>(p_.M * p_.K);
    const std::size_t gemm_bytes = gemm_int8::workspace_size(p_.M, p_.N, p_.K, config_);
    void* gemm_workspace = ws.take_bytes(gemm_bytes);
    const cudaStream_t stream = stream_of(ctx);

    const int64_t n = p_.M * p_.K;
    quantize_fixed_kernel<<<elementwise_blocks(n, p_.multiprocessors), kElementwiseThreads, 0,
                            stream>>>(
        ctx.inputs[kLinearX].as<float>(), n, quant_.scale, static_cast<float>(quant_.zero_point),
        static_cast<float>(quant_.qmin), static_cast<float>(quant_.qmax), offset_, qx);
    QRT_CUDA_RETURN_IF_ERROR(cudaGetLastError());

    gemm_int8::EpilogueSpec epilogue;
    epilogue.output = gemm_int8::GemmOutput::kF32;
    epilogue.column_scales = column_scales_.as<const float>();
    epilogue.bias = bias_.as<const float>();
    add_fused_activation(p_, epilogue);
    const Status launched = gemm_int8::launch_gemm_int8(
        qx, weight_.as<const int8_t>(), p_.M, p_.N, p_.K, epilogue, ctx.outputs[0].data, config_,
        gemm_workspace, gemm_bytes, stream);
    return labeled(p_.label, launched);
  }

  std::string describe() const override {
    return std::string("int8 GEMM ") + gemm_int8::kTileConfigs[config_].name +
           fused_activation_note(p_);
  }

 private:
  LinearProblem p_;
  FixedQuant quant_;
  int32_t offset_ = 0;  // 128 for uint8-range activations, else 0
  int config_ = 0;
  DeviceBuffer weight_;         // int8 [N, K]
  DeviceBuffer column_scales_;  // f32 [N]: s_x·s_w[n]
  DeviceBuffer bias_;           // f32 [N]: b'[n], the zero point folded in
};

}  // namespace

void register_linear_int8_static_kernel(runtime::KernelRegistry& registry) {
  add_cuda_entry(
      registry, ir::OpKind::kLinear, "cuda.linear.int8-static",
      [](const ir::Graph& g, const ir::Node& n) {
        return supports_linear(ir::Precision::kInt8Static, g, n);
      },
      [] { return std::make_unique<LinearInt8StaticKernel>(); });
}

}  // namespace qrt::cuda::kernels
