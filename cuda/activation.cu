// Elementwise activations: kernel, launcher and registry entry (see activation.cuh for the
// formulas).
#include "cuda/activation.cuh"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <variant>

#include "cuda/activation_device.cuh"
#include "cuda/cuda_status.h"
#include "cuda/device.h"

namespace qrt::cuda {

// ---------------------------------------------------------------------------------------------------
// Layer 1: the __global__ kernel.

namespace {

constexpr int kThreadsPerBlock = 256;
// Grid-stride loops need only enough blocks to fill the GPU: a few resident blocks per SM hide
// memory latency; more blocks would only add scheduling work.
constexpr int kBlocksPerMultiprocessor = 8;

// Vectorized path, used when x and y share their offset within 16 bytes. Elements [0, head) bring
// both pointers to a 16-byte boundary; [head, head + 4·num_vec4) move as float4 (one 16-byte load
// and store per thread per step, coalesced across the warp); the remaining `tail` (< 4) follow. The
// head and tail (at most 6 elements) are done by the first threads of the grid.
template <ActivationKind kKind>
__global__ void __launch_bounds__(kThreadsPerBlock)
    activation_vec4_kernel(const float* x, float* y, int64_t head, int64_t num_vec4, int64_t tail,
                           float param) {
  const int64_t thread = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const float4* x4 = reinterpret_cast<const float4*>(x + head);
  float4* y4 = reinterpret_cast<float4*>(y + head);
  for (int64_t i = thread; i < num_vec4; i += stride) {
    float4 v = x4[i];
    v.x = activate<kKind>(v.x, param);
    v.y = activate<kKind>(v.y, param);
    v.z = activate<kKind>(v.z, param);
    v.w = activate<kKind>(v.w, param);
    y4[i] = v;
  }
  if (thread < head) {
    y[thread] = activate<kKind>(x[thread], param);
  } else if (thread < head + tail) {
    const int64_t i = head + 4 * num_vec4 + (thread - head);
    y[i] = activate<kKind>(x[i], param);
  }
}

// Scalar path for pointers whose offsets within 16 bytes differ (no common vector alignment).
template <ActivationKind kKind>
__global__ void __launch_bounds__(kThreadsPerBlock)
    activation_scalar_kernel(const float* x, float* y, int64_t n, float param) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    y[i] = activate<kKind>(x[i], param);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// Layer 2: the launcher.

const char* activation_name(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::kRelu:
      return "relu";
    case ActivationKind::kLeakyRelu:
      return "leaky_relu";
    case ActivationKind::kGeluErf:
      return "gelu_erf";
    case ActivationKind::kGeluTanh:
      return "gelu_tanh";
    case ActivationKind::kSilu:
      return "silu";
    case ActivationKind::kSigmoid:
      return "sigmoid";
    case ActivationKind::kTanh:
      return "tanh";
  }
  return "unknown";
}

namespace {

// A kernel dereferencing host memory the device cannot reach faults, and a fault poisons the whole
// CUDA context; such pointers are refused up front. Pinned and managed memory are
// device-accessible, and so is plain pageable memory on systems with pageable memory access (HMM or
// ATS).
Status check_device_accessible(const void* pointer, const char* argument, int current_device,
                               bool pageable_memory_access) {
  cudaPointerAttributes attributes{};
  QRT_CUDA_RETURN_IF_ERROR(cudaPointerGetAttributes(&attributes, pointer));
  if (attributes.type == cudaMemoryTypeUnregistered && !pageable_memory_access) {
    return invalid_argument(std::string("launch_activation: ") + argument +
                            " is host memory that the device cannot access (use cudaMalloc, "
                            "pinned or managed memory)");
  }
  if (attributes.type == cudaMemoryTypeDevice && attributes.device != current_device) {
    return invalid_argument(std::string("launch_activation: ") + argument + " lives on device " +
                            std::to_string(attributes.device) + " but the current device is " +
                            std::to_string(current_device));
  }
  return Status::ok();
}

int grid_size(int64_t work_items, int multiprocessors) {
  const int64_t max_blocks = static_cast<int64_t>(multiprocessors) * kBlocksPerMultiprocessor;
  const int64_t needed = (work_items + kThreadsPerBlock - 1) / kThreadsPerBlock;
  return static_cast<int>(std::max<int64_t>(1, std::min(needed, max_blocks)));
}

template <ActivationKind kKind>
Status launch_typed(const float* x, float* y, int64_t n, float param, cudaStream_t stream,
                    int multiprocessors) {
  const auto x_address = reinterpret_cast<std::uintptr_t>(x);
  const auto y_address = reinterpret_cast<std::uintptr_t>(y);
  if (x_address % 16 == y_address % 16) {
    const int64_t head = std::min<int64_t>(n, static_cast<int64_t>((16 - x_address % 16) % 16 / 4));
    const int64_t num_vec4 = (n - head) / 4;
    const int64_t tail = n - head - 4 * num_vec4;
    const int blocks = grid_size(std::max(num_vec4, head + tail), multiprocessors);
    activation_vec4_kernel<kKind>
        <<<blocks, kThreadsPerBlock, 0, stream>>>(x, y, head, num_vec4, tail, param);
  } else {
    activation_scalar_kernel<kKind>
        <<<grid_size(n, multiprocessors), kThreadsPerBlock, 0, stream>>>(x, y, n, param);
  }
  // Launch-configuration errors are reported at once; faults inside the kernel surface at the
  // caller's next synchronizing call.
  QRT_CUDA_RETURN_IF_ERROR(cudaGetLastError());
  return Status::ok();
}

// Enqueues the kernel for arguments already checked; makes no CUDA call but the launch, so that a
// stream capture can record it.
Status launch_checked(ActivationKind kind, const float* x, float* y, int64_t n, float param,
                      cudaStream_t stream, int multiprocessors) {
  switch (kind) {
    case ActivationKind::kRelu:
      return launch_typed<ActivationKind::kRelu>(x, y, n, param, stream, multiprocessors);
    case ActivationKind::kLeakyRelu:
      return launch_typed<ActivationKind::kLeakyRelu>(x, y, n, param, stream, multiprocessors);
    case ActivationKind::kGeluErf:
      return launch_typed<ActivationKind::kGeluErf>(x, y, n, param, stream, multiprocessors);
    case ActivationKind::kGeluTanh:
      return launch_typed<ActivationKind::kGeluTanh>(x, y, n, param, stream, multiprocessors);
    case ActivationKind::kSilu:
      return launch_typed<ActivationKind::kSilu>(x, y, n, param, stream, multiprocessors);
    case ActivationKind::kSigmoid:
      return launch_typed<ActivationKind::kSigmoid>(x, y, n, param, stream, multiprocessors);
    case ActivationKind::kTanh:
      return launch_typed<ActivationKind::kTanh>(x, y, n, param, stream, multiprocessors);
  }
  return internal_error("launch_activation: unhandled activation kind");
}

}  // namespace

Status launch_activation(ActivationKind kind, const float* x, float* y, int64_t n, float param,
                         cudaStream_t stream) {
  const int raw_kind = static_cast<int>(kind);
  if (raw_kind < 0 || raw_kind >= kNumActivationKinds) {
    return invalid_argument("launch_activation: unknown activation kind " +
                            std::to_string(raw_kind));
  }
  if (n < 0) {
    return invalid_argument("launch_activation(" + std::string(activation_name(kind)) +
                            "): n = " + std::to_string(n) + " is negative");
  }
  if (n == 0) return Status::ok();
  if (n > std::numeric_limits<int64_t>::max() / static_cast<int64_t>(sizeof(float))) {
    return invalid_argument("launch_activation: n = " + std::to_string(n) +
                            " overflows a byte size");
  }
  const std::string where = "launch_activation(" + std::string(activation_name(kind)) + "): ";
  if (x == nullptr) return invalid_argument(where + "x is null (n = " + std::to_string(n) + ")");
  if (y == nullptr) return invalid_argument(where + "y is null (n = " + std::to_string(n) + ")");
  const auto x_address = reinterpret_cast<std::uintptr_t>(x);
  const auto y_address = reinterpret_cast<std::uintptr_t>(y);
  if (x_address % alignof(float) != 0) return invalid_argument(where + "x is not 4-byte aligned");
  if (y_address % alignof(float) != 0) return invalid_argument(where + "y is not 4-byte aligned");
  // In place (x == y) is fine: each element is read, then written, by the same thread (the kernels
  // therefore do not mark x and y __restrict__). A partial overlap would make the result depend on
  // thread scheduling.
  const auto bytes = static_cast<std::uintptr_t>(n) * sizeof(float);
  if (x != y && x_address < y_address + bytes && y_address < x_address + bytes) {
    return invalid_argument(where + "x and y overlap without being identical");
  }
  int device = 0;
  QRT_CUDA_RETURN_IF_ERROR(cudaGetDevice(&device));
  int pageable_memory_access = 0;
  QRT_CUDA_RETURN_IF_ERROR(
      cudaDeviceGetAttribute(&pageable_memory_access, cudaDevAttrPageableMemoryAccess, device));
  QRT_RETURN_IF_ERROR(check_device_accessible(x, "x", device, pageable_memory_access != 0));
  QRT_RETURN_IF_ERROR(check_device_accessible(y, "y", device, pageable_memory_access != 0));
  int multiprocessors = 0;
  QRT_CUDA_RETURN_IF_ERROR(
      cudaDeviceGetAttribute(&multiprocessors, cudaDevAttrMultiProcessorCount, device));
  return launch_checked(kind, x, y, n, param, stream, multiprocessors);
}

// ---------------------------------------------------------------------------------------------------
// Layer 3: the registry entry.

namespace {

// The activation a node asks for; kUnsupported for a node that is not an activation.
struct NodeActivation {
  ActivationKind kind;
  float param;
};

Result<NodeActivation> node_activation(const ir::Node& node) {
  switch (node.op) {
    case ir::OpKind::kRelu:
      return NodeActivation{ActivationKind::kRelu, 0.0f};
    case ir::OpKind::kSilu:
      return NodeActivation{ActivationKind::kSilu, 0.0f};
    case ir::OpKind::kSigmoid:
      return NodeActivation{ActivationKind::kSigmoid, 0.0f};
    case ir::OpKind::kTanh:
      return NodeActivation{ActivationKind::kTanh, 0.0f};
    case ir::OpKind::kLeakyRelu:
      if (const auto* attrs = std::get_if<ir::LeakyReluAttrs>(&node.attrs)) {
        return NodeActivation{ActivationKind::kLeakyRelu, attrs->negative_slope};
      }
      return invalid_model("node '" + node.name +
                           "' (LeakyRelu): attributes are not LeakyReluAttrs");
    case ir::OpKind::kGelu:
      if (const auto* attrs = std::get_if<ir::GeluAttrs>(&node.attrs)) {
        return NodeActivation{
            attrs->tanh_approximation ? ActivationKind::kGeluTanh : ActivationKind::kGeluErf, 0.0f};
      }
      return invalid_model("node '" + node.name + "' (Gelu): attributes are not GeluAttrs");
    default:
      return unsupported("node '" + node.name + "' (" + ir::op_name(node.op) +
                         ") is not an elementwise activation");
  }
}

bool is_f32_value(const ir::Graph& graph, ir::ValueId id) {
  return id >= 0 && static_cast<std::size_t>(id) < graph.values.size() &&
         graph.values[static_cast<std::size_t>(id)].dtype == ir::DType::kF32 &&
         !graph.values[static_cast<std::size_t>(id)].quant.has_value();
}

// One activation node on the GPU: device views from the session's arena, enqueued on its stream.
class ActivationKernel final : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    label_ = "node '" + node.name + "' (" + ir::op_name(node.op) + ")";
    QRT_ASSIGN_OR_RETURN(const NodeActivation activation, node_activation(node));
    kind_ = activation.kind;
    param_ = activation.param;
    if (ctx.input_types.size() != 1 || ctx.output_types.size() != 1 ||
        ctx.input_types[0] == nullptr || ctx.output_types[0] == nullptr) {
      return invalid_model(label_ + ": expected 1 input and 1 output, got " +
                           std::to_string(ctx.input_types.size()) + " and " +
                           std::to_string(ctx.output_types.size()));
    }
    const ir::TensorType& in = *ctx.input_types[0];
    const ir::TensorType& out = *ctx.output_types[0];
    if (in.dtype != ir::DType::kF32 || out.dtype != ir::DType::kF32) {
      return unsupported(label_ + ": the CUDA activation kernel takes f32, got " +
                         ir::dtype_name(in.dtype) + " -> " + ir::dtype_name(out.dtype));
    }
    if (in.shape != out.shape) {
      return invalid_model(label_ + ": output shape " + ir::shape_to_string(out.shape) +
                           " differs from input shape " + ir::shape_to_string(in.shape));
    }
    // Fail here, naming the node, rather than at the first run when no device is usable; the SM
    // count sizes the grid without a query per run.
    const Result<DeviceInfo> info = query_current_device();
    if (!info.is_ok()) return info.status().with_context(label_);
    multiprocessors_ = info->multiprocessor_count;
    return Status::ok();
  }

  Status run(const runtime::RunContext& ctx) override {
    if (ctx.inputs.size() != 1 || ctx.outputs.size() != 1) {
      return invalid_argument(label_ + ": expected 1 input and 1 output tensor");
    }
    const runtime::ConstTensorView& x = ctx.inputs[0];
    const runtime::TensorView& y = ctx.outputs[0];
    if (!x.present()) return invalid_argument(label_ + ": input is absent");
    if (x.dtype != ir::DType::kF32 || y.dtype != ir::DType::kF32) {
      return invalid_argument(label_ + ": input and output must be f32");
    }
    if (x.device != runtime::Device::kCuda || y.device != runtime::Device::kCuda) {
      return invalid_argument(label_ + ": input and output must be device (cuda) tensors, got " +
                              runtime::device_name(x.device) + " -> " +
                              runtime::device_name(y.device));
    }
    const int64_t n = x.numel();
    if (n != y.numel()) {
      return invalid_argument(label_ + ": input has " + std::to_string(n) + " elements, output " +
                              std::to_string(y.numel()));
    }
    if (n == 0) return Status::ok();
    if (y.data == nullptr) return invalid_argument(label_ + ": output buffer is null");
    const Status launched = launch_checked(kind_, x.as<float>(), y.as<float>(), n, param_,
                                           static_cast<cudaStream_t>(ctx.stream), multiprocessors_);
    return launched.with_context(label_);
  }

 private:
  std::string label_;
  ActivationKind kind_ = ActivationKind::kRelu;
  float param_ = 0.0f;
  int multiprocessors_ = 0;
};

}  // namespace

void register_activation_kernels(runtime::KernelRegistry& registry) {
  const struct {
    ir::OpKind op;
    const char* name;
  } ops[] = {
      {ir::OpKind::kRelu, "cuda.activation.relu"},
      {ir::OpKind::kLeakyRelu, "cuda.activation.leaky_relu"},
      {ir::OpKind::kGelu, "cuda.activation.gelu"},
      {ir::OpKind::kSilu, "cuda.activation.silu"},
      {ir::OpKind::kSigmoid, "cuda.activation.sigmoid"},
      {ir::OpKind::kTanh, "cuda.activation.tanh"},
  };
  for (const auto& [op, name] : ops) {
    runtime::KernelEntry entry;
    entry.op = op;
    entry.device = runtime::Device::kCuda;
    entry.name = name;
    entry.supports = [](const ir::Graph& graph, const ir::Node& node) {
      return node.inputs.size() == 1 && node.outputs.size() == 1 &&
             is_f32_value(graph, node.inputs[0]) && is_f32_value(graph, node.outputs[0]) &&
             node_activation(node).is_ok();
    };
    entry.create = []() -> std::unique_ptr<runtime::Kernel> {
      return std::make_unique<ActivationKernel>();
    };
    registry.add(std::move(entry));
  }
}

}  // namespace qrt::cuda
