// LayerNorm over the last dimension on the GPU: the fused launcher of cuda/layer_norm.cuh (f32 in
// and out, no fused activation or quantization here; the CPU reference is ops/layer_norm.cpp).
// gamma and beta are constants of the graph, uploaded once in prepare.
#include <memory>
#include <string>
#include <vector>

#include "cuda/kernels/kernel_support.h"
#include "cuda/kernels/kernels.h"
#include "cuda/layer_norm.cuh"
#include "ir/op_schema.h"

namespace qrt::cuda::kernels {

namespace {

constexpr std::size_t kX = 0, kGamma = 1, kBeta = 2;

class LayerNormKernel final : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    label_ = ir::node_label(node);
    const auto* attrs = std::get_if<ir::LayerNormAttrs>(&node.attrs);
    if (attrs == nullptr) return node_error(node, "attributes are not LayerNormAttrs");
    QRT_RETURN_IF_ERROR(check_inferred_outputs(ctx));
    const ir::TensorType* xt = ctx.input_types[kX];
    if (xt == nullptr || xt->shape.empty() || !ir::is_static(xt->shape))
      return node_error(node, "input x needs a concrete shape [..., D]");
    cols_ = xt->shape.back();
    rows_ = cols_ > 0 ? ir::numel(xt->shape) / cols_ : 0;
    eps_ = attrs->eps;
    QRT_RETURN_IF_ERROR(require_device(node).status());
    for (std::size_t i = kGamma; i <= kBeta && i < node.inputs.size(); ++i) {
      const ir::Value* v = value_of(ctx.graph, node.inputs[i]);
      if (v == nullptr) continue;
      QRT_ASSIGN_OR_RETURN(const std::vector<float> host, constant_floats(node, *v, cols_));
      QRT_ASSIGN_OR_RETURN((i == kGamma ? gamma_ : beta_), upload(host));
    }
    return Status::ok();
  }

  Status run(const runtime::RunContext& ctx) override {
    // gamma and beta are constants uploaded in prepare: the session passes them as host views.
    QRT_RETURN_IF_ERROR(check_device_views(label_, ctx, ctx.inputs.size(), 1, {false, true, true}));
    if (rows_ == 0) return Status::ok();
    LayerNormArgs args;
    args.rows = rows_;
    args.cols = cols_;
    args.eps = eps_;
    args.x = ctx.inputs[kX].data;
    args.gamma = gamma_.as<const float>();
    args.beta = beta_.as<const float>();
    args.y = ctx.outputs[0].data;
    const Status launched = launch_layer_norm(args, stream_of(ctx));
    return labeled(label_, launched);
  }

 private:
  std::string label_;
  int64_t rows_ = 0, cols_ = 0;
  float eps_ = 1e-5f;
  DeviceBuffer gamma_, beta_;  // f32 [D] or empty (ones / zeros)
};

}  // namespace

void register_layer_norm_kernel(runtime::KernelRegistry& registry) {
  add_cuda_entry(
      registry, ir::OpKind::kLayerNorm, "cuda.layer_norm",
      [](const ir::Graph& g, const ir::Node& n) {
        // gamma and beta are read once in prepare: they must be constants; x is read from the
        // device at run, so a constant x (a host view there) stays with the CPU kernel.
        const ir::Value* x = n.inputs.empty() ? nullptr : value_of(g, n.inputs[kX]);
        if (x == nullptr || x->is_constant()) return false;
        for (std::size_t i = kGamma; i < n.inputs.size(); ++i) {
          const ir::Value* v = value_of(g, n.inputs[i]);
          if (v != nullptr && !v->is_constant()) return false;
        }
        return all_f32_data(g, n);
      },
      [] { return std::make_unique<LayerNormKernel>(); });
}

}  // namespace qrt::cuda::kernels
