// Reshape on the GPU: y holds x's elements in the same row-major order (the CPU reference is
// ops/reshape.cpp), so it is one device-to-device copy on the stream (capturable in a CUDA graph).
// When the planner gives y the same memory as x there is nothing to do.
#include <cuda_runtime_api.h>

#include <memory>
#include <string>

#include "cuda/cuda_status.h"
#include "cuda/kernels/kernel_support.h"
#include "cuda/kernels/kernels.h"
#include "ir/op_schema.h"

namespace qrt::cuda::kernels {

namespace {

class ReshapeKernel final : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) override {
    label_ = ir::node_label(ctx.node);
    QRT_RETURN_IF_ERROR(check_inferred_outputs(ctx));  // resolves 0 / -1 and the element count
    bytes_ = static_cast<std::size_t>(ir::numel(ctx.input_types[0]->shape)) * sizeof(float);
    QRT_RETURN_IF_ERROR(require_device(ctx.node).status());
    return constant_.upload(ctx, 1);  // a constant x arrives as a host view
  }

  Status run(const runtime::RunContext& ctx) override {
    QRT_RETURN_IF_ERROR(check_device_views(label_, ctx, 1, 1, constant_.flags()));
    const void* x = constant_.data(ctx, 0);
    if (bytes_ == 0 || ctx.outputs[0].data == x) return Status::ok();
    QRT_CUDA_RETURN_IF_ERROR(
        cudaMemcpyAsync(ctx.outputs[0].data, x, bytes_, cudaMemcpyDeviceToDevice, stream_of(ctx)));
    return Status::ok();
  }

 private:
  std::string label_;
  std::size_t bytes_ = 0;
  ConstantInputs constant_;
};

}  // namespace

void register_reshape_kernel(runtime::KernelRegistry& registry) {
  add_cuda_entry(registry, ir::OpKind::kReshape, "cuda.reshape", all_f32_data,
                 [] { return std::make_unique<ReshapeKernel>(); });
}

}  // namespace qrt::cuda::kernels
