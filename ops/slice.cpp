// Slice: Python x[start:end:step] along one axis (SliceAttrs in ir/op_kind.h). Bounds normalize as
// in Python: a negative index counts from the end (i + dim), then both bounds clamp to [0, dim];
// the output has ceil((end - start) / step) elements along the axis (0 when end <= start), step
// >= 1. With squeeze the axis must select exactly one element and is removed (x[:, i]). Viewing x
// as [outer, dim, inner] around the axis:  y[o, j, k] = x[o, start + j·step, k].
#include "ops/slice.h"

#include <algorithm>
#include <cstring>

#include "ops/kernel_support.h"

namespace qrt::ops {

namespace {

int64_t normalize_bound(int64_t index, int64_t dim) {
  if (index < 0) index = index < -dim ? 0 : index + dim;  // written to avoid overflow at INT64_MIN
  return std::min(index, dim);
}

class SliceKernel final : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    QRT_ASSIGN_OR_RETURN(const ir::SliceAttrs* attrs, node_attrs<ir::SliceAttrs>(node));
    QRT_RETURN_IF_ERROR(check_context(ctx, 1, 1, 1, 1));
    const ir::Shape& x = ctx.input_types[0]->shape;
    Result<int> axis = ir::normalize_axis(attrs->axis, static_cast<int>(x.size()), "slice");
    if (!axis.is_ok()) return node_error(node, axis.status().message());
    if (attrs->step < 1)
      return node_error(node, "step " + std::to_string(attrs->step) + " must be >= 1");
    dim_ = x[*axis];
    start_ = normalize_bound(attrs->start, dim_);
    const int64_t end = normalize_bound(attrs->end, dim_);
    step_ = attrs->step;
    count_ = end > start_ ? (end - start_ - 1) / step_ + 1 : 0;  // ceil, no overflow
    ir::Shape y = x;
    if (attrs->squeeze) {
      if (count_ != 1)
        return node_error(node, "squeeze needs exactly one element along axis " +
                                    std::to_string(*axis) + ", the slice selects " +
                                    std::to_string(count_));
      y.erase(y.begin() + *axis);
    } else {
      y[*axis] = count_;
    }
    QRT_RETURN_IF_ERROR(expect_shape(node, "output y", ctx.output_types[0]->shape, y));
    outer_ = ir::numel(ir::Shape(x.begin(), x.begin() + *axis));
    inner_ = ir::numel(ir::Shape(x.begin() + *axis + 1, x.end()));
    return Status::ok();
  }

  Status run(const runtime::RunContext& ctx) override {
    const float* x = ctx.inputs[0].as<float>();
    float* y = ctx.outputs[0].as<float>();
    const std::size_t row_bytes = static_cast<std::size_t>(inner_) * sizeof(float);
    if (row_bytes == 0) return Status::ok();
    for (int64_t o = 0; o < outer_; ++o)
      for (int64_t j = 0; j < count_; ++j)
        std::memcpy(y + (o * count_ + j) * inner_, x + (o * dim_ + start_ + j * step_) * inner_,
                    row_bytes);
    return Status::ok();
  }

 private:
  int64_t dim_ = 0, start_ = 0, step_ = 1, count_ = 0, outer_ = 0, inner_ = 0;
};

}  // namespace

std::unique_ptr<runtime::Kernel> make_slice_kernel() {
  return std::make_unique<SliceKernel>();
}

}  // namespace qrt::ops
