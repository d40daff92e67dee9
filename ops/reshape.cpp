// Reshape: y holds x's elements in the same row-major order under a new shape. The attribute shape
// follows ONNX rules: 0 copies the input dim at that position, one -1 is inferred from the element
// count. The kernel copies (the memory planner gives y its own buffer; a later pass may alias it).
#include "ops/reshape.h"

#include <cstring>

#include "ops/kernel_support.h"

namespace qrt::ops {

namespace {

class ReshapeKernel final : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    QRT_ASSIGN_OR_RETURN(const ir::ReshapeAttrs* attrs, node_attrs<ir::ReshapeAttrs>(node));
    QRT_RETURN_IF_ERROR(check_context(ctx, 1, 1, 1, 1));
    const ir::Shape& x = ctx.input_types[0]->shape;
    QRT_ASSIGN_OR_RETURN(const ir::Shape y, resolve(node, attrs->shape, x));
    QRT_RETURN_IF_ERROR(expect_shape(node, "output y", ctx.output_types[0]->shape, y));
    numel_ = ir::numel(x);
    return Status::ok();
  }

  Status run(const runtime::RunContext& ctx) override {
    if (numel_ > 0)
      std::memcpy(ctx.outputs[0].data, ctx.inputs[0].data,
                  static_cast<std::size_t>(numel_) * sizeof(float));
    return Status::ok();
  }

 private:
  // The concrete output shape the attribute shape denotes for input shape `x`.
  static Result<ir::Shape> resolve(const ir::Node& node, const ir::Shape& target,
                                   const ir::Shape& x) {
    ir::Shape y(target.size());
    int inferred = -1;
    int64_t known = 1;
    for (std::size_t i = 0; i < target.size(); ++i) {
      const int64_t d = target[i];
      if (d == 0) {
        if (i >= x.size())
          return node_error(node, "shape entry " + std::to_string(i) +
                                      " is 0 but the input has rank " + std::to_string(x.size()));
        y[i] = x[i];
      } else if (d == -1) {
        if (inferred >= 0) return node_error(node, "shape has more than one -1");
        inferred = static_cast<int>(i);
        continue;
      } else if (d < 0) {
        return node_error(node, "shape entry " + std::to_string(i) + " is " + std::to_string(d));
      } else {
        y[i] = d;
      }
      if (__builtin_mul_overflow(known, y[i], &known))
        return node_error(node, "target shape has too many elements");
    }
    const int64_t total = ir::numel(x);
    if (inferred >= 0) {
      if (known == 0 || total % known != 0)
        return node_error(
            node, "cannot infer the -1 in the target shape for input " + ir::shape_to_string(x));
      y[inferred] = total / known;
    } else if (known != total) {
      return node_error(node, "cannot reshape " + ir::shape_to_string(x) + " (" +
                                  std::to_string(total) + " elements) to " +
                                  ir::shape_to_string(y));
    }
    return y;
  }

  int64_t numel_ = 0;
};

}  // namespace

std::unique_ptr<runtime::Kernel> make_reshape_kernel() {
  return std::make_unique<ReshapeKernel>();
}

}  // namespace qrt::ops
