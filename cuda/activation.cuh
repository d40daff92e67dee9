// Elementwise activations on the GPU: ReLU, LeakyReLU, GELU (erf and tanh forms), SiLU, Sigmoid,
// Tanh.
//
// Two layers are public (the third, the __global__ kernel, is private to activation.cu):
//  - the launcher `launch_activation`: raw device pointers, a size and a stream; what tests call;
//  - the entry `register_activation_kernels`: graph-aware kernels for the runtime's registry.
// This header is plain C++ (no CUDA keywords) so host code compiled by the C++ compiler includes
// it.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "ir/status.h"
#include "runtime/kernel_registry.h"

namespace qrt::cuda {

// The formulas (PyTorch semantics, float32 throughout):
//   kRelu       y = x < 0 ? 0 : x               (NaN stays NaN, as torch.relu)
//   kLeakyRelu  y = x > 0 ? x : param * x        (param = negative_slope)
//   kGeluErf    y = x/2 · (1 + erf(x/√2))        (torch.nn.GELU(approximate="none"))
//   kGeluTanh   y = x/2 · (1 + tanh(√(2/π) · (x + 0.044715 x³)))   (approximate="tanh")
//   kSilu       y = x / (1 + e^(-x))
//   kSigmoid    y = 1 / (1 + e^(-x))
//   kTanh       y = tanh(x)
enum class ActivationKind : int {
  kRelu,
  kLeakyRelu,
  kGeluErf,
  kGeluTanh,
  kSilu,
  kSigmoid,
  kTanh,
};
inline constexpr int kNumActivationKinds = 7;

const char* activation_name(ActivationKind kind);  // "relu", "gelu_tanh", ...

// y[i] = f(x[i]) for i in [0, n), enqueued on `stream` (asynchronous: the caller synchronizes).
// `x` and `y` are device-accessible (device, pinned or managed memory), 4-byte aligned, on the
// current device, and either identical (in place) or not overlapping. `param` is LeakyReLU's
// negative slope and is ignored by the other kinds. n == 0 does nothing. Invalid arguments give
// kInvalidArgument naming the argument; launch failures give kDeviceError with the CUDA error.
Status launch_activation(ActivationKind kind, const float* x, float* y, int64_t n, float param,
                         cudaStream_t stream);

// Adds one kCuda entry per activation op (Relu, LeakyRelu, Gelu, Silu, Sigmoid, Tanh) for f32
// tensors, named "cuda.activation.<op>".
void register_activation_kernels(runtime::KernelRegistry& registry);

}  // namespace qrt::cuda
