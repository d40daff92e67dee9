// Linear in int8-dynamic on the GPU (the CPU reference is ops/quantized/linear_int8_dynamic.cpp):
// each row of x quantized with its own absmax / 127 scale (cuda/quantize_rows.cuh), then the fused
// int8 GEMM with the dequantizing epilogue
//   y[m, n] = s_x[m]·s_w[n]·Σ_k qx[m, k]·qw[n, k] + b[n]          (cuda/gemm_int8/epilogue.h)
// With an outlier threshold the LLM.int8() decomposition runs instead
// (cuda/gemm_int8/outliers.cuh). A fused activation (ir::LinearAttrs) runs in either epilogue. The
// launcher marks the columns with |x| > threshold while the CPU kernel takes |x| >= threshold
// (ops/quantized/linear_int8_dynamic.cpp), so it is handed the float just below the threshold: |x|
// > nextafter(t, 0) is exactly |x| >= t.
//
// Unlike the CPU kernel, run() cannot reject NaN / ±inf inputs (that would read device data on
// the host); such a row gets unspecified codes (cuda/quantize_rows.cuh), never a fault.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "cuda/gemm_int8/gemm_int8.cuh"
#include "cuda/gemm_int8/outliers.cuh"
#include "cuda/kernels/kernel_support.h"
#include "cuda/kernels/kernels.h"
#include "cuda/kernels/linear_support.h"
#include "cuda/quantize_rows.cuh"

namespace qrt::cuda::kernels {

namespace {

class LinearInt8DynamicKernel final : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    QRT_ASSIGN_OR_RETURN(p_, check_linear(ir::Precision::kInt8Dynamic, ctx));
    threshold_ = node.precision.outlier_threshold;
    if (!(threshold_ >= 0.0f) || !std::isfinite(threshold_))
      return node_error(node, "outlier threshold " + std::to_string(threshold_) +
                                  " must be finite and >= 0 (0 turns the decomposition off)");
    config_ = gemm_int8::select_tile_config(p_.M, p_.N, p_.K, p_.multiprocessors);
    const Status fits = gemm_int8::can_implement(p_.M, p_.N, p_.K, config_, {});
    if (!fits.is_ok())
      return node_unsupported(node, "the int8 GEMM cannot run this Linear: " + fits.message());

    QRT_ASSIGN_OR_RETURN(const std::vector<float> scales,
                         int8_weight_scales(node, *p_.weight, p_.N));
    QRT_ASSIGN_OR_RETURN(const unsigned char* codes,
                         constant_bytes(node, *p_.weight, static_cast<std::size_t>(p_.N * p_.K)));
    QRT_ASSIGN_OR_RETURN(weight_, upload_bytes(codes, static_cast<std::size_t>(p_.N * p_.K)));
    QRT_ASSIGN_OR_RETURN(scales_, upload(scales));
    QRT_ASSIGN_OR_RETURN(bias_, upload_linear_bias(node, p_));
    return Status::ok();
  }

  std::size_t workspace_bytes() const override {
    DeviceWorkspace ws;
    carve(ws);
    return ws.used();
  }

  Status run(const runtime::RunContext& ctx) override {
    QRT_RETURN_IF_ERROR(check_linear_views(p_, ctx));
    if (p_.M == 0 || p_.N == 0) return Status::ok();
    DeviceWorkspace ws(ctx.workspace);
    const Slices s = carve(ws);
    const cudaStream_t stream = stream_of(ctx);
    const float* x = ctx.inputs[kLinearX].as<float>();
    gemm_int8::EpilogueSpec epilogue;
    epilogue.output = gemm_int8::GemmOutput::kF32;
    epilogue.bias = bias_.as<const float>();
    add_fused_activation(p_, epilogue);
    Status launched;
    if (threshold_ > 0.0f) {
      launched = gemm_int8::launch_gemm_int8_outliers(
          x, weight_.as<const int8_t>(), scales_.as<const float>(), p_.M, p_.N, p_.K,
          std::nextafter(threshold_, 0.0f), epilogue, ctx.outputs[0].data, config_, s.gemm,
          s.gemm_bytes, stream);
    } else {
      launched = launch_quantize_rows(x, p_.M, p_.K, s.qx, s.row_scales, nullptr, stream);
      if (launched.is_ok()) {
        epilogue.row_scales = s.row_scales;
        epilogue.column_scales = scales_.as<const float>();
        launched = gemm_int8::launch_gemm_int8(s.qx, weight_.as<const int8_t>(), p_.M, p_.N, p_.K,
                                               epilogue, ctx.outputs[0].data, config_, s.gemm,
                                               s.gemm_bytes, stream);
      }
    }
    return labeled(p_.label, launched);
  }

  std::string describe() const override {
    return std::string("int8 GEMM ") + gemm_int8::kTileConfigs[config_].name +
           (threshold_ > 0.0f ? ", LLM.int8() outliers" : "") + fused_activation_note(p_);
  }

 private:
  struct Slices {
    int8_t* qx = nullptr;         // [M, K] activation codes
    float* row_scales = nullptr;  // [M]
    void* gemm = nullptr;         // the launcher's own workspace
    std::size_t gemm_bytes = 0;
  };

  Slices carve(DeviceWorkspace& ws) const {
    Slices s;
    if (threshold_ > 0.0f) {
      s.gemm_bytes = gemm_int8::outlier_workspace_size(p_.M, p_.N, p_.K);
    } else {
      s.qx = ws.take<int8_t>(p_.M * p_.K);
      s.row_scales = ws.take<float>(p_.M);
      s.gemm_bytes = gemm_int8::workspace_size(p_.M, p_.N, p_.K, config_);
    }
    s.gemm = ws.take_bytes(s.gemm_bytes);
    return s;
  }

  LinearProblem p_;
  float threshold_ = 0.0f;
  int config_ = 0;
  DeviceBuffer weight_;  // int8 [N, K]
  DeviceBuffer scales_;  // f32 [N]
  DeviceBuffer bias_;    // f32 [N] or empty
};

}  // namespace

void register_linear_int8_dynamic_kernel(runtime::KernelRegistry& registry) {
  add_cuda_entry(
      registry, ir::OpKind::kLinear, "cuda.linear.int8-dynamic",
      [](const ir::Graph& g, const ir::Node& n) {
        return supports_linear(ir::Precision::kInt8Dynamic, g, n);
      },
      [] { return std::make_unique<LinearInt8DynamicKernel>(); });
}

}  // namespace qrt::cuda::kernels
