// Add / Sub / Mul with NumPy broadcasting: the shapes are right-aligned, and each dim pair must be
// equal or contain a 1, which is stretched:  y[i] = a[i mod shape(a)] ∘ b[i mod shape(b)].
// xtensor's broadcasting over adapted raw buffers implements exactly this rule.
#include "ops/binary.h"

#include <exception>

#include <xtensor/xadapt.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xoperation.hpp>

#include "ir/op_schema.h"
#include "ops/kernel_support.h"

namespace qrt::ops {

namespace {

using XShape = xt::dynamic_shape<std::size_t>;  // small-buffer vector: no heap for rank <= 4

XShape to_xshape(const ir::Shape& s) {
  return XShape(s.begin(), s.end());
}

class BinaryKernel final : public runtime::Kernel {
 public:
  explicit BinaryKernel(ir::OpKind op) : op_(op) {}

  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    if (node.op != op_)
      return node_error(node, std::string("given to the ") + ir::op_name(op_) + " kernel");
    if (op_ != ir::OpKind::kAdd && op_ != ir::OpKind::kSub && op_ != ir::OpKind::kMul)
      return node_error(node, "is not a binary elementwise op");
    QRT_RETURN_IF_ERROR(check_context(ctx, 2, 2, 1, 2));
    const ir::Shape& a = ctx.input_types[0]->shape;
    const ir::Shape& b = ctx.input_types[1]->shape;
    Result<ir::Shape> y = ir::broadcast_shapes(a, b);
    if (!y.is_ok()) return node_error(node, y.status().message());
    QRT_RETURN_IF_ERROR(expect_shape(node, "output y", ctx.output_types[0]->shape, *y));
    a_shape_ = to_xshape(a);
    b_shape_ = to_xshape(b);
    y_shape_ = to_xshape(*y);
    label_ = ir::node_label(node);
    return Status::ok();
  }

  Status run(const runtime::RunContext& ctx) override {
    // xtensor reports failures by exception (e.g. bad_alloc for shapes of rank > 4); none may
    // cross this boundary.
    try {
      auto a = xt::adapt(ctx.inputs[0].as<float>(), a_shape_);
      auto b = xt::adapt(ctx.inputs[1].as<float>(), b_shape_);
      auto y = xt::adapt(ctx.outputs[0].as<float>(), y_shape_);
      switch (op_) {
        case ir::OpKind::kAdd:
          xt::noalias(y) = a + b;
          break;
        case ir::OpKind::kSub:
          xt::noalias(y) = a - b;
          break;
        case ir::OpKind::kMul:
          xt::noalias(y) = a * b;
          break;
        default:
          return internal_error(label_ + "binary kernel run for a non-binary op");
      }
    } catch (const std::exception& e) {
      return internal_error(label_ + e.what());
    }
    return Status::ok();
  }

 private:
  ir::OpKind op_;
  XShape a_shape_, b_shape_, y_shape_;
  std::string label_;
};

}  // namespace

std::unique_ptr<runtime::Kernel> make_binary_kernel(ir::OpKind op) {
  return std::make_unique<BinaryKernel>(op);
}

}  // namespace qrt::ops
