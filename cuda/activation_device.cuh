// The activations of cuda/activation.cuh as device functions (device code only): the one
// definition used by the elementwise kernels (activation.cu), the fused LayerNorm (layer_norm.cu)
// and the int8 GEMM's epilogue (gemm_int8/gemm_int8.cu). Formulas and PyTorch semantics are listed
// in activation.cuh; float32 throughout.
//
// expf/erff/tanhf (not the __expf intrinsics): within 2 ulp per the CUDA Math API, matching
// PyTorch's CUDA kernels closely; the callers are memory-bound or run it once per output, so the
// accurate forms cost no time.
#pragma once

#include "cuda/activation.cuh"

namespace qrt::cuda {

namespace activation_constants {
inline constexpr float kInvSqrt2 = 0.70710678118654752440f;     // 1/√2
inline constexpr float kSqrt2OverPi = 0.79788456080286535588f;  // √(2/π)
inline constexpr float kGeluTanhCubic = 0.044715f;              // Hendrycks & Gimpel, as in PyTorch
}  // namespace activation_constants

// The kind fixed at compile time (one kernel instantiation per kind).
template <ActivationKind kKind>
__device__ __forceinline__ float activate(float x, float param) {
  using namespace activation_constants;
  if constexpr (kKind == ActivationKind::kRelu) {
    return x < 0.0f ? 0.0f : x;
  } else if constexpr (kKind == ActivationKind::kLeakyRelu) {
    return x > 0.0f ? x : x * param;
  } else if constexpr (kKind == ActivationKind::kGeluErf) {
    return 0.5f * x * (1.0f + erff(x * kInvSqrt2));
  } else if constexpr (kKind == ActivationKind::kGeluTanh) {
    return 0.5f * x * (1.0f + tanhf(kSqrt2OverPi * (x + kGeluTanhCubic * x * x * x)));
  } else if constexpr (kKind == ActivationKind::kSilu) {
    return x / (1.0f + expf(-x));
  } else if constexpr (kKind == ActivationKind::kSigmoid) {
    return 1.0f / (1.0f + expf(-x));
  } else {
    static_assert(kKind == ActivationKind::kTanh);
    return tanhf(x);
  }
}

// The kind chosen at run time, for fused epilogues: it is uniform across a launch, so the switch
// does not diverge. An out-of-range kind leaves x unchanged.
__device__ __forceinline__ float activate(ActivationKind kind, float x, float param) {
  switch (kind) {
    case ActivationKind::kRelu:
      return activate<ActivationKind::kRelu>(x, param);
    case ActivationKind::kLeakyRelu:
      return activate<ActivationKind::kLeakyRelu>(x, param);
    case ActivationKind::kGeluErf:
      return activate<ActivationKind::kGeluErf>(x, param);
    case ActivationKind::kGeluTanh:
      return activate<ActivationKind::kGeluTanh>(x, param);
    case ActivationKind::kSilu:
      return activate<ActivationKind::kSilu>(x, param);
    case ActivationKind::kSigmoid:
      return activate<ActivationKind::kSigmoid>(x, param);
    case ActivationKind::kTanh:
      return activate<ActivationKind::kTanh>(x, param);
  }
  return x;
}

}  // namespace qrt::cuda
