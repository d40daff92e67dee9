// Linear (PyTorch nn.Linear, y = x·Wᵀ + b over any leading dims) in a quantized precision: shape
// validation as the f32 kernel does it, the arithmetic in the precision's Projection, then the
// fused activation on the f32 output (y = act(x·Ŵᵀ + b)), whichever projection ran.
#include <string>

#include "ops/activation.h"
#include "ops/kernel_support.h"
#include "ops/quantized/projection.h"
#include "ops/quantized/quantized_kernels.h"
#include "ops/quantized/quantized_support.h"

namespace qrt::ops::quantized {

namespace {

constexpr std::size_t kX = 0, kWeight = 1, kBias = 2;

class QuantizedLinearKernel final : public runtime::Kernel {
 public:
  explicit QuantizedLinearKernel(ir::Precision precision) : precision_(precision) {}

  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    QRT_ASSIGN_OR_RETURN(const ir::LinearAttrs* attrs, node_attrs<ir::LinearAttrs>(node));
    activation_ = attrs->activation;
    if (node_precision(node) != precision_)
      return node_error(node, "precision '" + node.precision.precision + "' but this is the " +
                                  ir::precision_name(precision_) + " kernel");
    if (node.inputs.size() < 2 || node.inputs.size() > 3 || node.outputs.size() != 1 ||
        ctx.input_types.size() != node.inputs.size() || ctx.output_types.size() != 1)
      return node_error(node, "expected inputs x, weight, bias? and one output y, got " +
                                  std::to_string(node.inputs.size()) + " inputs and " +
                                  std::to_string(node.outputs.size()) + " outputs");
    const ir::Value* x = value_of(ctx.graph, node.inputs[kX]);
    const ir::Value* w = value_of(ctx.graph, node.inputs[kWeight]);
    const ir::Value* b =
        node.inputs.size() > kBias ? value_of(ctx.graph, node.inputs[kBias]) : nullptr;
    if (x == nullptr || w == nullptr || ctx.input_types[kX] == nullptr ||
        ctx.input_types[kWeight] == nullptr)
      return node_error(node, "input x and weight are required");
    if (!activation_has_form(precision_, *x) || ctx.input_types[kX]->dtype != ir::DType::kF32)
      return node_error(node, "input x '" + x->name + "' is not an f32 tensor in the form " +
                                  ir::precision_name(precision_) + " reads");
    const ir::Shape& xs = ctx.input_types[kX]->shape;
    if (xs.empty() || !ir::is_static(xs))
      return node_error(
          node, "input x has shape " + ir::shape_to_string(xs) + ", expected a concrete [..., K]");
    const ir::TensorType* yt = ctx.output_types[0];
    if (yt == nullptr || yt->dtype != ir::DType::kF32)
      return node_error(node, "output y must be f32");
    if (w->shape.size() != 2)
      return node_error(node,
                        "weight has shape " + ir::shape_to_string(w->shape) + ", expected [N, K]");

    ProjectionSpec spec;
    spec.node = &node;
    spec.what = "weight";
    spec.weight = w;
    spec.bias = b;
    spec.N = w->shape[0];
    spec.K = xs.back();
    spec.outlier_threshold = node.precision.outlier_threshold;
    spec.input = "input '" + x->name + "'";
    if (precision_ == ir::Precision::kInt8Static) {
      QRT_ASSIGN_OR_RETURN(spec.activation, ir::fixed_activation_quant(node, *x));
    }
    QRT_ASSIGN_OR_RETURN(projection_, make_projection(precision_, spec));
    N_ = spec.N;
    K_ = spec.K;
    ir::Shape y = xs;
    y.back() = N_;
    QRT_RETURN_IF_ERROR(expect_shape(node, "output y", yt->shape, y));
    M_ = ir::numel(ir::Shape(xs.begin(), xs.end() - 1));
    return Status::ok();
  }

  std::size_t workspace_bytes() const override {
    return projection_ ? projection_->workspace_bytes(M_) : 0;
  }

  Status run(const runtime::RunContext& ctx) override {
    const void* bias = ctx.inputs.size() > kBias ? ctx.inputs[kBias].data : nullptr;
    float* y = ctx.outputs[0].as<float>();
    QRT_RETURN_IF_ERROR(projection_->run_checked(M_, ctx.inputs[kX].as<float>(), K_,
                                                 ctx.inputs[kWeight].data, bias, y, N_,
                                                 ctx.workspace, RowNumbering{}));
    apply_activation(activation_, y, y, M_ * N_);
    return Status::ok();
  }

  std::string describe() const override {
    return projection_ ? projection_->describe() : std::string();
  }

 private:
  ir::Precision precision_;
  std::unique_ptr<Projection> projection_;
  int64_t M_ = 0, N_ = 0, K_ = 0;
  ir::FusedActivation activation_ = ir::FusedActivation::kNone;
};

}  // namespace

bool supports_quantized_linear(ir::Precision precision, const ir::Graph& graph,
                               const ir::Node& node) {
  if (node.op != ir::OpKind::kLinear || node_precision(node) != precision) return false;
  if (node.inputs.size() < 2 || node.inputs.size() > 3 || node.outputs.size() != 1) return false;
  const ir::Value* x = value_of(graph, node.inputs[kX]);
  const ir::Value* w = value_of(graph, node.inputs[kWeight]);
  const ir::Value* y = value_of(graph, node.outputs[0]);
  const bool has_bias = node.inputs.size() > kBias && node.inputs[kBias] != ir::kNoValue;
  const ir::Value* b = has_bias ? value_of(graph, node.inputs[kBias]) : nullptr;
  if (x == nullptr || w == nullptr || y == nullptr || (has_bias && b == nullptr)) return false;
  // y may carry calibration parameters for an int8-static reader (is_f32_data): a fused Linear
  // writes what its activation wrote, and the bytes are float either way.
  return activation_has_form(precision, *x) && weight_has_form(precision, *w) &&
         bias_has_form(precision, b) && ir::is_f32_data(graph, node.outputs[0]);
}

std::unique_ptr<runtime::Kernel> make_quantized_linear_kernel(ir::Precision precision) {
  return std::make_unique<QuantizedLinearKernel>(precision);
}

}  // namespace qrt::ops::quantized
