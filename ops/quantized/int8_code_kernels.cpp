// Relu and Reshape on the int8 codes of a static int8 chain (ir/precision.h). With per-tensor
// parameters (s, z) the code of 0 is z, so relu(s·(q − z)) = s·(max(q, z) − z): Relu is a max with
// the zero point on the codes, with the same parameters. Reshape moves codes unchanged.
#include <algorithm>
#include <cstring>

#include "ops/kernel_support.h"
#include "ops/quantized/int8_chain_kernels.h"
#include "ops/quantized/quantized_support.h"

namespace qrt::ops::quantized {

namespace {

// One int8-activation input, one int8-activation output of the same dtype and parameters, the
// same element count; returns that count.
Result<int64_t> check_code_op(const runtime::PrepareContext& ctx) {
  const ir::Node& node = ctx.node;
  if (node.inputs.empty() || node.outputs.size() != 1 || ctx.input_types.empty() ||
      ctx.output_types.size() != 1 || ctx.input_types[0] == nullptr ||
      ctx.output_types[0] == nullptr)
    return node_error(node, "expected input x and one output y");
  const ir::Value* x = value_of(ctx.graph, node.inputs[0]);
  const ir::Value* y = value_of(ctx.graph, node.outputs[0]);
  if (x == nullptr || y == nullptr || !is_int8_activation(*x) || x->dtype != y->dtype ||
      x->quant != y->quant)
    return node_error(node, "x and y must be int8 activations with the same dtype and parameters");
  const ir::TensorType& xt = *ctx.input_types[0];
  const ir::TensorType& yt = *ctx.output_types[0];
  if (xt.dtype != x->dtype || yt.dtype != y->dtype || !ir::is_static(xt.shape) ||
      !ir::is_static(yt.shape) || ir::numel(xt.shape) != ir::numel(yt.shape))
    return node_error(node, "x " + ir::shape_to_string(xt.shape) + " and y " +
                                ir::shape_to_string(yt.shape) +
                                " must be concrete with the same element count");
  return ir::numel(xt.shape);
}

class Int8ReluKernel final : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) override {
    QRT_ASSIGN_OR_RETURN(numel_, check_code_op(ctx));
    const ir::Value& x = *value_of(ctx.graph, ctx.node.inputs[0]);
    unsigned_ = x.dtype == ir::DType::kU8;
    zero_point_ = x.quant->zero_points.empty() ? 0 : x.quant->zero_points[0];
    return Status::ok();
  }

  Status run(const runtime::RunContext& ctx) override {
    if (unsigned_) {
      relu(ctx.inputs[0].as<uint8_t>(), ctx.outputs[0].as<uint8_t>());
    } else {
      relu(ctx.inputs[0].as<int8_t>(), ctx.outputs[0].as<int8_t>());
    }
    return Status::ok();
  }

 private:
  template <typename T>
  void relu(const T* x, T* y) const {
    const T z = static_cast<T>(zero_point_);
    for (int64_t i = 0; i < numel_; ++i) y[i] = std::max(x[i], z);
  }

  int64_t numel_ = 0;
  bool unsigned_ = false;
  int32_t zero_point_ = 0;
};

class Int8ReshapeKernel final : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) override {
    QRT_RETURN_IF_ERROR(node_attrs<ir::ReshapeAttrs>(ctx.node).status());
    QRT_ASSIGN_OR_RETURN(numel_, check_code_op(ctx));
    return Status::ok();
  }

  Status run(const runtime::RunContext& ctx) override {
    if (numel_ > 0)
      std::memcpy(ctx.outputs[0].data, ctx.inputs[0].data, static_cast<std::size_t>(numel_));
    return Status::ok();
  }

 private:
  int64_t numel_ = 0;
};

}  // namespace

bool is_int8_activation(const ir::Value& v) {
  if (v.is_constant() || !v.quant || v.quant->scales.size() != 1) return false;
  if (v.dtype == ir::DType::kI8) return v.quant->scheme == ir::QuantScheme::kSymmetricPerTensor;
  if (v.dtype == ir::DType::kU8)
    return v.quant->scheme == ir::QuantScheme::kAffinePerTensor && v.quant->zero_points.size() == 1;
  return false;
}

bool supports_int8_code_op(const ir::Graph& graph, const ir::Node& node) {
  if (node.op != ir::OpKind::kRelu && node.op != ir::OpKind::kReshape) return false;
  if (node.inputs.size() != 1 || node.outputs.size() != 1) return false;
  const ir::Value* x = value_of(graph, node.inputs[0]);
  const ir::Value* y = value_of(graph, node.outputs[0]);
  return x != nullptr && y != nullptr && is_int8_activation(*x) && is_int8_activation(*y) &&
         x->dtype == y->dtype && x->quant == y->quant;
}

std::unique_ptr<runtime::Kernel> make_int8_relu_kernel() {
  return std::make_unique<Int8ReluKernel>();
}

std::unique_ptr<runtime::Kernel> make_int8_reshape_kernel() {
  return std::make_unique<Int8ReshapeKernel>();
}

void register_int8_chain_kernels(runtime::KernelRegistry& registry) {
  registry.add(runtime::KernelEntry{
      ir::OpKind::kLinear, runtime::Device::kCpu, "cpu.reference.linear.int8-static-chain",
      supports_int8_static_chain_linear, make_int8_static_chain_linear_kernel});
  registry.add(runtime::KernelEntry{ir::OpKind::kRelu, runtime::Device::kCpu,
                                    "cpu.reference.relu.int8", supports_int8_code_op,
                                    make_int8_relu_kernel});
  registry.add(runtime::KernelEntry{ir::OpKind::kReshape, runtime::Device::kCpu,
                                    "cpu.reference.reshape.int8", supports_int8_code_op,
                                    make_int8_reshape_kernel});
}

}  // namespace qrt::ops::quantized
