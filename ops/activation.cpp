// Elementwise activations: y[i] = f(x[i]) with f from ops/activation_math.h, y the shape of x.
#include "ops/activation.h"

#include <algorithm>
#include <optional>

#include "ops/activation_math.h"
#include "ops/kernel_support.h"

namespace qrt::ops {

namespace {

class ActivationKernel final : public runtime::Kernel {
 public:
  explicit ActivationKernel(ir::OpKind op) : op_(op) {}

  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    if (node.op != op_)
      return node_error(node, std::string("given to the ") + ir::op_name(op_) + " kernel");
    QRT_RETURN_IF_ERROR(check_context(ctx, 1, 1, 1, 1));
    const ir::Shape& x = ctx.input_types[0]->shape;
    QRT_RETURN_IF_ERROR(expect_shape(node, "output y", ctx.output_types[0]->shape, x));
    if (op_ == ir::OpKind::kLeakyRelu) {
      QRT_ASSIGN_OR_RETURN(const ir::LeakyReluAttrs* attrs, node_attrs<ir::LeakyReluAttrs>(node));
      if (!std::isfinite(attrs->negative_slope))
        return node_error(node, "negative_slope is not finite");
      negative_slope_ = attrs->negative_slope;
    } else {
      const std::optional<ir::FusedActivation> activation =
          ir::fused_activation_of(op_, node.attrs);
      if (!activation)
        return node_error(node, "is not an activation, or its attributes have the wrong type");
      activation_ = *activation;
    }
    numel_ = ir::numel(x);
    return Status::ok();
  }

  Status run(const runtime::RunContext& ctx) override {
    const float* x = ctx.inputs[0].as<float>();
    float* y = ctx.outputs[0].as<float>();
    if (op_ != ir::OpKind::kLeakyRelu) {
      apply_activation(activation_, x, y, numel_);
      return Status::ok();
    }
    const float slope = negative_slope_;
    for (int64_t i = 0; i < numel_; ++i) y[i] = leaky_relu(x[i], slope);
    return Status::ok();
  }

 private:
  ir::OpKind op_;
  int64_t numel_ = 0;
  float negative_slope_ = 0.0f;
  ir::FusedActivation activation_ = ir::FusedActivation::kNone;  // every op but LeakyRelu
};

// y[i] = f(x[i]) for i < n.
template <typename F>
void map_elements(const float* x, float* y, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

}  // namespace

std::unique_ptr<runtime::Kernel> make_activation_kernel(ir::OpKind op) {
  return std::make_unique<ActivationKernel>(op);
}

void apply_activation(ir::FusedActivation activation, const float* x, float* y, int64_t n) {
  switch (activation) {
    case ir::FusedActivation::kNone:
      if (x != y) std::copy(x, x + n, y);
      return;
    case ir::FusedActivation::kRelu:
      return map_elements(x, y, n, relu);
    case ir::FusedActivation::kGeluErf:
      return map_elements(x, y, n, gelu_erf);
    case ir::FusedActivation::kGeluTanh:
      return map_elements(x, y, n, gelu_tanh);
    case ir::FusedActivation::kSilu:
      return map_elements(x, y, n, silu);
    case ir::FusedActivation::kSigmoid:
      return map_elements(x, y, n, sigmoid);
    case ir::FusedActivation::kTanh:
      return map_elements(x, y, n, [](float v) { return std::tanh(v); });
  }
}

}  // namespace qrt::ops
