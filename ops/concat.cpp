// Concat (torch.cat): inputs of equal rank whose dims agree except along `axis` (negative counts
// from the end) are joined along it. Viewing each input as [outer, dim_k, inner]:
//   y[o, offset_k + j, i] = x_k[o, j, i],  offset_k = Σ_{m<k} dim_m.
#include "ops/concat.h"

#include <cstring>
#include <vector>

#include "ops/kernel_support.h"

namespace qrt::ops {

namespace {

class ConcatKernel final : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    QRT_ASSIGN_OR_RETURN(const ir::ConcatAttrs* attrs, node_attrs<ir::ConcatAttrs>(node));
    const std::size_t n = node.inputs.size();
    QRT_RETURN_IF_ERROR(check_context(ctx, 1, SIZE_MAX, 1, n));
    const ir::Shape& first = ctx.input_types[0]->shape;
    const int rank = static_cast<int>(first.size());
    Result<int> axis = ir::normalize_axis(attrs->axis, rank, "concat");
    if (!axis.is_ok()) return node_error(node, axis.status().message());
    ir::Shape y = first;
    y[*axis] = 0;
    dims_.clear();
    for (std::size_t k = 0; k < n; ++k) {
      const ir::Shape& s = ctx.input_types[k]->shape;
      bool compatible = static_cast<int>(s.size()) == rank;
      for (int d = 0; compatible && d < rank; ++d) compatible = d == *axis || s[d] == first[d];
      if (!compatible)
        return node_error(node, "input " + std::to_string(k) + " has shape " +
                                    ir::shape_to_string(s) + ", which does not match input 0 " +
                                    ir::shape_to_string(first) + " outside axis " +
                                    std::to_string(*axis));
      dims_.push_back(s[*axis]);
      y[*axis] += s[*axis];
    }
    QRT_RETURN_IF_ERROR(expect_shape(node, "output y", ctx.output_types[0]->shape, y));
    outer_ = ir::numel(ir::Shape(first.begin(), first.begin() + *axis));
    inner_ = ir::numel(ir::Shape(first.begin() + *axis + 1, first.end()));
    y_dim_ = y[*axis];
    return Status::ok();
  }

  Status run(const runtime::RunContext& ctx) override {
    float* y = ctx.outputs[0].as<float>();
    for (int64_t o = 0; o < outer_; ++o) {
      int64_t offset = 0;
      for (std::size_t k = 0; k < dims_.size(); ++k) {
        const int64_t block = dims_[k] * inner_;  // x_k[o] is one contiguous block
        if (block > 0)
          std::memcpy(y + (o * y_dim_ + offset) * inner_, ctx.inputs[k].as<float>() + o * block,
                      static_cast<std::size_t>(block) * sizeof(float));
        offset += dims_[k];
      }
    }
    return Status::ok();
  }

 private:
  std::vector<int64_t> dims_;  // each input's extent along the axis
  int64_t outer_ = 0, inner_ = 0, y_dim_ = 0;
};

}  // namespace

std::unique_ptr<runtime::Kernel> make_concat_kernel() {
  return std::make_unique<ConcatKernel>();
}

}  // namespace qrt::ops
