// Linear, PyTorch nn.Linear semantics, then the fused activation (none unless
// ir::passes::fuse_activations set one):
//   y[..., n] = act(Σ_k x[..., k] · W[n, k] + b[n])      x [..., K], W [N, K], b? [N] -> y [..., N]
// Any number of leading dims (they flatten to M rows); a 1-D x is one row. W is read in place.
#include "ops/linear.h"

#include "ops/activation.h"
#include "ops/cpu_parallel.h"
#include "ops/gemm_f32.h"
#include "ops/kernel_support.h"

namespace qrt::ops {

namespace {

class LinearKernel final : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    QRT_ASSIGN_OR_RETURN(const ir::LinearAttrs* attrs, node_attrs<ir::LinearAttrs>(node));
    activation_ = attrs->activation;
    QRT_RETURN_IF_ERROR(check_context(ctx, 2, 3, 1, 2));
    const ir::Shape& x = ctx.input_types[0]->shape;
    const ir::Shape& w = ctx.input_types[1]->shape;
    if (x.empty()) return node_error(node, "input x is a scalar, expected [..., K]");
    if (w.size() != 2)
      return node_error(node, "weight has shape " + ir::shape_to_string(w) + ", expected [N, K]");
    K_ = x.back();
    N_ = w[0];
    if (w[1] != K_)
      return node_error(node, "weight has shape " + ir::shape_to_string(w) + " but x has " +
                                  std::to_string(K_) + " features (last dim of " +
                                  ir::shape_to_string(x) + ")");
    has_bias_ = ctx.input_types.size() > 2 && ctx.input_types[2] != nullptr;
    if (has_bias_) QRT_RETURN_IF_ERROR(expect_shape(node, "bias", ctx.input_types[2]->shape, {N_}));
    ir::Shape y = x;
    y.back() = N_;
    QRT_RETURN_IF_ERROR(expect_shape(node, "output y", ctx.output_types[0]->shape, y));
    M_ = ir::numel(ir::Shape(x.begin(), x.end() - 1));  // rows: the leading dims flattened
    return Status::ok();
  }

  Status run(const runtime::RunContext& ctx) override {
    const float* bias = has_bias_ ? ctx.inputs[2].as<float>() : nullptr;
    float* y = ctx.outputs[0].as<float>();
    gemm_xwt_f32(M_, N_, K_, ctx.inputs[0].as<float>(), K_, ctx.inputs[1].as<float>(), bias, y, N_,
                 default_cpu_threads());
    apply_activation(activation_, y, y, M_ * N_);
    return Status::ok();
  }

 private:
  int64_t M_ = 0, N_ = 0, K_ = 0;
  bool has_bias_ = false;
  ir::FusedActivation activation_ = ir::FusedActivation::kNone;
};

}  // namespace

std::unique_ptr<runtime::Kernel> make_linear_kernel() {
  return std::make_unique<LinearKernel>();
}

}  // namespace qrt::ops
