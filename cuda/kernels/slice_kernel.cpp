// Slice (Python x[start:end:step] along one axis, ir/op_kind.h SliceAttrs; the CPU reference is
// ops/slice.cpp) on the GPU. Viewing x as [outer, dim, inner] around the axis,
//   y[o, j, k] = x[o, start + j·step, k]
// is a strided copy from x + start·inner with strides (dim·inner, step·inner, 1).
#include <algorithm>
#include <memory>
#include <string>

#include "cuda/kernels/kernel_support.h"
#include "cuda/kernels/kernels.h"
#include "cuda/kernels/strided_copy.cuh"
#include "ir/op_schema.h"

namespace qrt::cuda::kernels {

namespace {

// Python's bound normalization: negative counts from the end, then clamp to [0, dim].
int64_t normalize_bound(int64_t index, int64_t dim) {
  if (index < 0) index = index < -dim ? 0 : index + dim;
  return std::min(index, dim);
}

class SliceKernel final : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    label_ = ir::node_label(node);
    const auto* attrs = std::get_if<ir::SliceAttrs>(&node.attrs);
    if (attrs == nullptr) return node_error(node, "attributes are not SliceAttrs");
    QRT_RETURN_IF_ERROR(check_inferred_outputs(ctx));  // validates axis, step, squeeze
    const ir::Shape& x = ctx.input_types[0]->shape;
    QRT_ASSIGN_OR_RETURN(const int axis,
                         ir::normalize_axis(attrs->axis, static_cast<int>(x.size()), label_));
    const int64_t dim = x[static_cast<std::size_t>(axis)];
    const int64_t start = normalize_bound(attrs->start, dim);
    const int64_t count = attrs->squeeze ? 1 : ctx.output_types[0]->shape[axis];
    const int64_t inner = ir::numel(ir::Shape(x.begin() + axis + 1, x.end()));
    index_.rank = 3;
    index_.dims[0] = ir::numel(ir::Shape(x.begin(), x.begin() + axis));
    index_.dims[1] = count;
    index_.dims[2] = inner;
    index_.strides[0] = dim * inner;
    index_.strides[1] = attrs->step * inner;
    index_.strides[2] = 1;
    offset_ = start * inner;
    n_ = index_.dims[0] * count * inner;
    QRT_ASSIGN_OR_RETURN(const DeviceInfo info, require_device(node));
    multiprocessors_ = info.multiprocessor_count;
    return constant_.upload(ctx, 1);  // a constant x arrives as a host view
  }

  Status run(const runtime::RunContext& ctx) override {
    QRT_RETURN_IF_ERROR(check_device_views(label_, ctx, 1, 1, constant_.flags()));
    const auto* x = static_cast<const float*>(constant_.data(ctx, 0));
    if (n_ == 0) return Status::ok();
    const Status launched = launch_strided_copy(x + offset_, index_, n_, ctx.outputs[0].as<float>(),
                                                multiprocessors_, stream_of(ctx));
    return labeled(label_, launched);
  }

 private:
  std::string label_;
  StridedIndex index_;
  int64_t offset_ = 0, n_ = 0;
  int multiprocessors_ = 1;
  ConstantInputs constant_;
};

}  // namespace

void register_slice_kernel(runtime::KernelRegistry& registry) {
  add_cuda_entry(registry, ir::OpKind::kSlice, "cuda.slice", all_f32_data,
                 [] { return std::make_unique<SliceKernel>(); });
}

}  // namespace qrt::cuda::kernels
