// Elementwise activations: y[i] = f(x[i]) with f from ops/activation_math.h, y the shape of x.
#include "ops/activation.h"

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
    switch (op_) {
      case ir::OpKind::kLeakyRelu: {
        QRT_ASSIGN_OR_RETURN(const ir::LeakyReluAttrs* attrs, node_attrs<ir::LeakyReluAttrs>(node));
        if (!std::isfinite(attrs->negative_slope))
          return node_error(node, "negative_slope is not finite");
        negative_slope_ = attrs->negative_slope;
        break;
      }
      case ir::OpKind::kGelu: {
        QRT_ASSIGN_OR_RETURN(const ir::GeluAttrs* attrs, node_attrs<ir::GeluAttrs>(node));
        gelu_tanh_ = attrs->tanh_approximation;
        break;
      }
      case ir::OpKind::kRelu:
      case ir::OpKind::kSilu:
      case ir::OpKind::kSigmoid:
      case ir::OpKind::kTanh:
        break;
      default:
        return node_error(node, "is not an activation");
    }
    numel_ = ir::numel(x);
    return Status::ok();
  }

  Status run(const runtime::RunContext& ctx) override {
    const float* x = ctx.inputs[0].as<float>();
    float* y = ctx.outputs[0].as<float>();
    switch (op_) {
      case ir::OpKind::kRelu:
        return apply(x, y, relu);
      case ir::OpKind::kLeakyRelu: {
        const float slope = negative_slope_;
        return apply(x, y, [slope](float v) { return leaky_relu(v, slope); });
      }
      case ir::OpKind::kGelu:
        return gelu_tanh_ ? apply(x, y, gelu_tanh) : apply(x, y, gelu_erf);
      case ir::OpKind::kSilu:
        return apply(x, y, silu);
      case ir::OpKind::kSigmoid:
        return apply(x, y, sigmoid);
      case ir::OpKind::kTanh:
        return apply(x, y, [](float v) { return std::tanh(v); });
      default:
        return internal_error("activation kernel run for a non-activation op");
    }
  }

 private:
  template <typename F>
  Status apply(const float* x, float* y, F f) const {
    for (int64_t i = 0; i < numel_; ++i) y[i] = f(x[i]);
    return Status::ok();
  }

  ir::OpKind op_;
  int64_t numel_ = 0;
  float negative_slope_ = 0.0f;
  bool gelu_tanh_ = false;
};

}  // namespace

std::unique_ptr<runtime::Kernel> make_activation_kernel(ir::OpKind op) {
  return std::make_unique<ActivationKernel>(op);
}

}  // namespace qrt::ops
