// Transpose by any permutation (output dim i is input dim perm[i]; the CPU reference is
// ops/transpose.cpp) on the GPU: a strided copy whose stride along output dim i is the input's
// row-major stride of dim perm[i].
#include <memory>
#include <string>

#include "cuda/kernels/kernel_support.h"
#include "cuda/kernels/kernels.h"
#include "cuda/kernels/strided_copy.cuh"
#include "ir/op_schema.h"

namespace qrt::cuda::kernels {

namespace {

class TransposeKernel final : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    label_ = ir::node_label(node);
    const auto* attrs = std::get_if<ir::TransposeAttrs>(&node.attrs);
    if (attrs == nullptr) return node_error(node, "attributes are not TransposeAttrs");
    QRT_RETURN_IF_ERROR(check_inferred_outputs(ctx));  // validates the permutation
    const ir::Shape& x = ctx.input_types[0]->shape;
    if (x.size() > static_cast<std::size_t>(kMaxStridedRank))
      return node_unsupported(node, "rank " + std::to_string(x.size()) + " exceeds the " +
                                        std::to_string(kMaxStridedRank) +
                                        " dims the CUDA transpose indexes");
    const ir::Shape x_strides = row_major_strides(x);
    index_.rank = static_cast<int>(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      const auto p = static_cast<std::size_t>(attrs->perm[i]);
      index_.dims[i] = x[p];
      index_.strides[i] = x_strides[p];
    }
    n_ = ir::numel(x);
    QRT_ASSIGN_OR_RETURN(const DeviceInfo info, require_device(node));
    multiprocessors_ = info.multiprocessor_count;
    return constant_.upload(ctx, 1);  // a constant x arrives as a host view
  }

  Status run(const runtime::RunContext& ctx) override {
    QRT_RETURN_IF_ERROR(check_device_views(label_, ctx, 1, 1, constant_.flags()));
    const auto* x = static_cast<const float*>(constant_.data(ctx, 0));
    const Status launched = launch_strided_copy(x, index_, n_, ctx.outputs[0].as<float>(),
                                                multiprocessors_, stream_of(ctx));
    return labeled(label_, launched);
  }

 private:
  std::string label_;
  StridedIndex index_;
  int64_t n_ = 0;
  int multiprocessors_ = 1;
  ConstantInputs constant_;
};

}  // namespace

void register_transpose_kernel(runtime::KernelRegistry& registry) {
  add_cuda_entry(registry, ir::OpKind::kTranspose, "cuda.transpose", all_f32_data,
                 [] { return std::make_unique<TransposeKernel>(); });
}

}  // namespace qrt::cuda::kernels
