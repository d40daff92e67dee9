// Add / Sub / Mul with NumPy broadcasting on the GPU (the CPU reference is ops/binary.cpp): each
// input is read through its broadcast index (strided_index.h: stride 0 along a stretched dim),
//   y[i] = a[offset_a(i)] ∘ b[offset_b(i)].
#include <cuda_runtime_api.h>

#include <memory>
#include <string>

#include "cuda/cuda_status.h"
#include "cuda/kernels/kernel_support.h"
#include "cuda/kernels/kernels.h"
#include "cuda/kernels/strided_index.h"
#include "ir/op_schema.h"

namespace qrt::cuda::kernels {

namespace {

enum class BinaryOp : int { kAdd, kSub, kMul };

template <BinaryOp kOp>
__device__ __forceinline__ float apply(float a, float b) {
  if constexpr (kOp == BinaryOp::kAdd) return a + b;
  if constexpr (kOp == BinaryOp::kSub) return a - b;
  return a * b;
}

template <BinaryOp kOp>
__global__ void __launch_bounds__(kElementwiseThreads)
    binary_kernel(const float* a, StridedIndex a_index, const float* b, StridedIndex b_index,
                  int64_t n, float* y) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    y[i] = apply<kOp>(a[strided_offset(i, a_index)], b[strided_offset(i, b_index)]);
}

class BinaryKernel final : public runtime::Kernel {
 public:
  explicit BinaryKernel(BinaryOp op) : op_(op) {}

  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    label_ = ir::node_label(node);
    QRT_RETURN_IF_ERROR(check_inferred_outputs(ctx));  // validates the broadcast
    const ir::Shape& y = ctx.output_types[0]->shape;
    if (y.size() > static_cast<std::size_t>(kMaxStridedRank))
      return node_unsupported(node, "rank " + std::to_string(y.size()) + " exceeds the " +
                                        std::to_string(kMaxStridedRank) +
                                        " dims the CUDA binary kernel indexes");
    a_ = broadcast_index(ctx.input_types[0]->shape, y);
    b_ = broadcast_index(ctx.input_types[1]->shape, y);
    n_ = ir::numel(y);
    QRT_ASSIGN_OR_RETURN(const DeviceInfo info, require_device(node));
    multiprocessors_ = info.multiprocessor_count;
    return constants_.upload(ctx, 2);  // a constant operand (a bias) arrives as a host view
  }

  Status run(const runtime::RunContext& ctx) override {
    QRT_RETURN_IF_ERROR(check_device_views(label_, ctx, 2, 1, constants_.flags()));
    if (n_ == 0) return Status::ok();
    const auto* a = static_cast<const float*>(constants_.data(ctx, 0));
    const auto* b = static_cast<const float*>(constants_.data(ctx, 1));
    float* y = ctx.outputs[0].as<float>();
    const unsigned blocks = elementwise_blocks(n_, multiprocessors_);
    const cudaStream_t stream = stream_of(ctx);
    switch (op_) {
      case BinaryOp::kAdd:
        binary_kernel<BinaryOp::kAdd>
            <<<blocks, kElementwiseThreads, 0, stream>>>(a, a_, b, b_, n_, y);
        break;
      case BinaryOp::kSub:
        binary_kernel<BinaryOp::kSub>
            <<<blocks, kElementwiseThreads, 0, stream>>>(a, a_, b, b_, n_, y);
        break;
      case BinaryOp::kMul:
        binary_kernel<BinaryOp::kMul>
            <<<blocks, kElementwiseThreads, 0, stream>>>(a, a_, b, b_, n_, y);
        break;
    }
    QRT_CUDA_RETURN_IF_ERROR(cudaGetLastError());
    return Status::ok();
  }

 private:
  BinaryOp op_;
  std::string label_;
  StridedIndex a_, b_;
  int64_t n_ = 0;
  int multiprocessors_ = 1;
  ConstantInputs constants_;
};

}  // namespace

void register_binary_kernels(runtime::KernelRegistry& registry) {
  const struct {
    ir::OpKind op;
    BinaryOp binary;
    const char* name;
  } ops[] = {{ir::OpKind::kAdd, BinaryOp::kAdd, "cuda.add"},
             {ir::OpKind::kSub, BinaryOp::kSub, "cuda.sub"},
             {ir::OpKind::kMul, BinaryOp::kMul, "cuda.mul"}};
  for (const auto& [op, binary, name] : ops) {
    add_cuda_entry(registry, op, name, all_f32_data,
                   [binary] { return std::make_unique<BinaryKernel>(binary); });
  }
}

}  // namespace qrt::cuda::kernels
