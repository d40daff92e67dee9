// Linear in w8a16 and nf4 on the GPU: the weight-only launchers (cuda/weight_only/weight_only.cuh)
// keep the weights quantized in device memory and dequantize them in registers. Their activations
// are f16, so x is first rounded to f16 into the workspace: the CPU references
// (ops/quantized/linear_w8a16.cpp, linear_nf4.cpp) multiply the f32 x, so the results differ by
// that rounding (a relative 2^-11 per product, averaging out over K).
// The launchers take at most kMaxRows rows; larger M runs as consecutive row chunks on the same
// stream (every launch reads the same weights, which then come from L2).
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cuda/kernels/kernel_support.h"
#include "cuda/kernels/kernels.h"
#include "cuda/kernels/linear_support.h"
#include "cuda/weight_only/weight_only.cuh"
#include "ir/quantize.h"

namespace qrt::cuda::kernels {

namespace {

class LinearWeightOnlyKernel final : public runtime::Kernel {
 public:
  explicit LinearWeightOnlyKernel(ir::Precision precision) : precision_(precision) {}

  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    QRT_ASSIGN_OR_RETURN(p_, check_linear(precision_, ctx));
    const int64_t chunk = std::min(p_.M, weight_only::kMaxRows);
    if (precision_ == ir::Precision::kW8A16) {
      const Status fits = weight_only::can_implement_w8a16(chunk, p_.N, p_.K);
      if (!fits.is_ok())
        return node_unsupported(node, "the W8A16 GEMV cannot run this Linear: " + fits.message());
      QRT_ASSIGN_OR_RETURN(const std::vector<float> scales,
                           int8_weight_scales(node, *p_.weight, p_.N));
      const auto bytes = static_cast<std::size_t>(p_.N * p_.K);
      QRT_ASSIGN_OR_RETURN(const unsigned char* codes, constant_bytes(node, *p_.weight, bytes));
      QRT_ASSIGN_OR_RETURN(codes_, upload_bytes(codes, bytes));
      QRT_ASSIGN_OR_RETURN(scales_, upload(scales));
    } else {
      const ir::QuantParams& q = *p_.weight->quant;
      block_size_ = q.block_size;
      const Status fits = weight_only::can_implement_nf4(chunk, p_.N, p_.K, block_size_);
      if (!fits.is_ok())
        return node_unsupported(node, "the NF4 GEMV cannot run this Linear: " + fits.message());
      const std::vector<float> absmax = ir::nf4_block_absmax(q);
      if (static_cast<int64_t>(absmax.size()) != p_.N * p_.K / block_size_)
        return node_error(node, "weight '" + p_.weight->name + "' decodes to " +
                                    std::to_string(absmax.size()) +
                                    " block absmax values, expected " +
                                    std::to_string(p_.N * p_.K / block_size_));
      const auto bytes = static_cast<std::size_t>(p_.N * p_.K / 2);
      QRT_ASSIGN_OR_RETURN(const unsigned char* packed, constant_bytes(node, *p_.weight, bytes));
      QRT_ASSIGN_OR_RETURN(codes_, upload_bytes(packed, bytes));
      QRT_ASSIGN_OR_RETURN(scales_, upload(absmax));
    }
    QRT_ASSIGN_OR_RETURN(bias_, upload_linear_bias(node, p_));
    return Status::ok();
  }

  std::size_t workspace_bytes() const override {
    DeviceWorkspace ws;
    ws.take<__half>(p_.M * p_.K);
    return ws.used();
  }

  Status run(const runtime::RunContext& ctx) override {
    QRT_RETURN_IF_ERROR(check_linear_views(p_, ctx));
    if (p_.M == 0 || p_.N == 0) return Status::ok();
    DeviceWorkspace ws(ctx.workspace);
    QRT_ASSIGN_OR_RETURN(const __half* x16, round_x_to_half(p_, ctx, ws));
    const cudaStream_t stream = stream_of(ctx);

    auto* y = ctx.outputs[0].as<float>();
    for (int64_t row = 0; row < p_.M; row += weight_only::kMaxRows) {
      const int64_t rows = std::min(weight_only::kMaxRows, p_.M - row);
      const __half* x_rows = x16 + row * p_.K;
      float* y_rows = y + row * p_.N;
      const Status launched = launch_rows(x_rows, rows, y_rows, stream);
      if (!launched.is_ok()) return labeled(p_.label, launched);
    }
    // The launchers' epilogue ends at the bias: a fused activation is one more pass over y.
    return apply_fused_activation(p_, y, stream);
  }

  // One launcher call for `rows` (<= kMaxRows) rows of x16 and y.
  Status launch_rows(const __half* x_rows, int64_t rows, float* y_rows, cudaStream_t stream) const {
    if (precision_ == ir::Precision::kW8A16) {
      const weight_only::Int8Weights w{codes_.as<const int8_t>(), scales_.as<const float>()};
      return weight_only::launch_w8a16_gemm(x_rows, rows, p_.N, p_.K, w, bias_.as<const float>(),
                                            weight_only::WeightOnlyOutput::kF32, y_rows, stream);
    }
    weight_only::Nf4Weights w;
    w.packed = codes_.as<const uint8_t>();
    w.block_size = block_size_;
    w.absmax = scales_.as<const float>();
    return weight_only::launch_nf4_gemm(x_rows, rows, p_.N, p_.K, w, bias_.as<const float>(),
                                        weight_only::WeightOnlyOutput::kF32, y_rows, stream);
  }

  std::string describe() const override {
    const int64_t launches = (p_.M + weight_only::kMaxRows - 1) / weight_only::kMaxRows;
    return std::string("weight-only GEMV, f16 activations") +
           (launches > 1 ? ", " + std::to_string(launches) + " row chunks" : "") +
           (p_.activation ? std::string(", then ") + activation_name(*p_.activation) : "");
  }

 private:
  ir::Precision precision_;
  LinearProblem p_;
  int64_t block_size_ = 0;  // nf4
  DeviceBuffer codes_;      // int8 [N, K] or packed nf4 [N·K / 2]
  DeviceBuffer scales_;     // w8a16: f32 [N]; nf4: f32 block absmax [N·K / block]
  DeviceBuffer bias_;       // f32 [N] or empty
};

}  // namespace

void register_linear_weight_only_kernels(runtime::KernelRegistry& registry) {
  for (const ir::Precision p : {ir::Precision::kW8A16, ir::Precision::kNF4}) {
    add_cuda_entry(
        registry, ir::OpKind::kLinear, std::string("cuda.linear.") + ir::precision_name(p),
        [p](const ir::Graph& g, const ir::Node& n) { return supports_linear(p, g, n); },
        [p] { return std::make_unique<LinearWeightOnlyKernel>(p); });
  }
}

}  // namespace qrt::cuda::kernels
