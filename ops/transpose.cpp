// Transpose by any permutation (torch.permute / numpy.transpose): output dim i is input dim
// perm[i],
//   y[j_0, ..., j_{r-1}] = x[i]  with  i[perm[k]] = j_k.
// xtensor's transpose view over the adapted input expresses exactly this; assigning it to the
// adapted output walks the output in row-major order.
#include "ops/transpose.h"

#include <exception>

#include <xtensor/xadapt.hpp>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xnoalias.hpp>

#include "ir/op_schema.h"
#include "ops/kernel_support.h"

namespace qrt::ops {

namespace {

using XShape = xt::dynamic_shape<std::size_t>;  // small-buffer vector: no heap for rank <= 4

class TransposeKernel final : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    QRT_ASSIGN_OR_RETURN(const ir::TransposeAttrs* attrs, node_attrs<ir::TransposeAttrs>(node));
    QRT_RETURN_IF_ERROR(check_context(ctx, 1, 1, 1, 1));
    const ir::Shape& x = ctx.input_types[0]->shape;
    const std::size_t rank = x.size();
    if (attrs->perm.size() != rank)
      return node_error(node, "perm has " + std::to_string(attrs->perm.size()) +
                                  " entries for an input of rank " + std::to_string(rank));
    std::vector<bool> seen(rank, false);
    ir::Shape y(rank);
    for (std::size_t i = 0; i < rank; ++i) {
      const int64_t p = attrs->perm[i];
      if (p < 0 || p >= static_cast<int64_t>(rank) || seen[p])
        return node_error(node, "perm is not a permutation of 0.." + std::to_string(rank - 1));
      seen[p] = true;
      y[i] = x[p];
    }
    QRT_RETURN_IF_ERROR(expect_shape(node, "output y", ctx.output_types[0]->shape, y));
    x_shape_ = XShape(x.begin(), x.end());
    y_shape_ = XShape(y.begin(), y.end());
    perm_ = XShape(attrs->perm.begin(), attrs->perm.end());
    label_ = ir::node_label(node);
    return Status::ok();
  }

  Status run(const runtime::RunContext& ctx) override {
    // xtensor reports failures by exception; none may cross this boundary.
    try {
      auto x = xt::adapt(ctx.inputs[0].as<float>(), x_shape_);
      auto y = xt::adapt(ctx.outputs[0].as<float>(), y_shape_);
      xt::noalias(y) = xt::transpose(x, perm_);
    } catch (const std::exception& e) {
      return internal_error(label_ + e.what());
    }
    return Status::ok();
  }

 private:
  XShape x_shape_, y_shape_, perm_;
  std::string label_;
};

}  // namespace

std::unique_ptr<runtime::Kernel> make_transpose_kernel() {
  return std::make_unique<TransposeKernel>();
}

}  // namespace qrt::ops
