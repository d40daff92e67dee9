// LayerNorm over the last dim (PyTorch nn.LayerNorm with normalized_shape = [D]):
//   mean = Σ_d x[d] / D,   var = Σ_d (x[d] - mean)² / D   (biased, as PyTorch)
//   y[d] = (x[d] - mean) / √(var + eps) · gamma[d] + beta[d]     (gamma = 1, beta = 0 when absent)
//
// Statistics are two-pass with double accumulators: the second pass sums squared deviations from
// the mean, which avoids the cancellation of E[x²] - E[x]² when |mean| >> std, and summing D floats
// in double keeps the rounding of the sums far below float resolution for any realistic D. The
// deviation x - mean is also formed in double (no float rounding of the mean); gamma and beta are
// applied in float.
#include "ops/layer_norm.h"

#include <cmath>

#include "ops/kernel_support.h"

namespace qrt::ops {

namespace {

class LayerNormKernel final : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    QRT_ASSIGN_OR_RETURN(const ir::LayerNormAttrs* attrs, node_attrs<ir::LayerNormAttrs>(node));
    if (!(attrs->eps >= 0.0f) || !std::isfinite(attrs->eps))
      return node_error(node, "eps " + std::to_string(attrs->eps) + " must be finite and >= 0");
    eps_ = attrs->eps;
    QRT_RETURN_IF_ERROR(check_context(ctx, 1, 3, 1, 1));
    const ir::Shape& x = ctx.input_types[0]->shape;
    if (x.empty()) return node_error(node, "input x is a scalar, expected [..., D]");
    D_ = x.back();
    rows_ = ir::numel(ir::Shape(x.begin(), x.end() - 1));
    has_gamma_ = ctx.input_types.size() > 1 && ctx.input_types[1] != nullptr;
    has_beta_ = ctx.input_types.size() > 2 && ctx.input_types[2] != nullptr;
    if (has_gamma_)
      QRT_RETURN_IF_ERROR(expect_shape(node, "gamma", ctx.input_types[1]->shape, {D_}));
    if (has_beta_) QRT_RETURN_IF_ERROR(expect_shape(node, "beta", ctx.input_types[2]->shape, {D_}));
    return expect_shape(node, "output y", ctx.output_types[0]->shape, x);
  }

  Status run(const runtime::RunContext& ctx) override {
    const float* x = ctx.inputs[0].as<float>();
    const float* gamma = has_gamma_ ? ctx.inputs[1].as<float>() : nullptr;
    const float* beta = has_beta_ ? ctx.inputs[2].as<float>() : nullptr;
    float* y = ctx.outputs[0].as<float>();
    if (D_ == 0) return Status::ok();
    for (int64_t r = 0; r < rows_; ++r) {
      const float* xr = x + r * D_;
      float* yr = y + r * D_;
      double sum = 0.0;
#pragma omp simd reduction(+ : sum)
      for (int64_t d = 0; d < D_; ++d) sum += xr[d];
      const double mean = sum / static_cast<double>(D_);
      double squares = 0.0;
#pragma omp simd reduction(+ : squares)
      for (int64_t d = 0; d < D_; ++d) {
        const double dev = xr[d] - mean;
        squares += dev * dev;
      }
      const double var = squares / static_cast<double>(D_);
      const double inv_std = 1.0 / std::sqrt(var + eps_);
      for (int64_t d = 0; d < D_; ++d) {
        float v = static_cast<float>((xr[d] - mean) * inv_std);
        if (gamma != nullptr) v *= gamma[d];
        if (beta != nullptr) v += beta[d];
        yr[d] = v;
      }
    }
    return Status::ok();
  }

 private:
  float eps_ = 0.0f;
  int64_t D_ = 0, rows_ = 0;
  bool has_gamma_ = false, has_beta_ = false;
};

}  // namespace

std::unique_ptr<runtime::Kernel> make_layer_norm_kernel() {
  return std::make_unique<LayerNormKernel>();
}

}  // namespace qrt::ops
