// The activations of cuda/activation.cuh as device functions, for fused epilogues (device code
// only). Same formulas and the same accurate math functions as cuda/activation.cu (PyTorch
// semantics, float32), switched at run time: the kind is uniform across a launch, so the branch
// does not diverge.
#pragma once

#include "cuda/activation.cuh"

namespace qrt::cuda::gemm_int8 {

__device__ __forceinline__ float apply_activation(ActivationKind kind, float x, float param) {
  constexpr float kInvSqrt2 = 0.70710678118654752440f;     // 1/√2
  constexpr float kSqrt2OverPi = 0.79788456080286535588f;  // √(2/π)
  constexpr float kGeluTanhCubic = 0.044715f;              // Hendrycks & Gimpel, as in PyTorch
  switch (kind) {
    case ActivationKind::kRelu:
      return x < 0.0f ? 0.0f : x;
    case ActivationKind::kLeakyRelu:
      return x > 0.0f ? x : x * param;
    case ActivationKind::kGeluErf:
      return 0.5f * x * (1.0f + erff(x * kInvSqrt2));
    case ActivationKind::kGeluTanh:
      return 0.5f * x * (1.0f + tanhf(kSqrt2OverPi * (x + kGeluTanhCubic * x * x * x)));
    case ActivationKind::kSilu:
      return x / (1.0f + expf(-x));
    case ActivationKind::kSigmoid:
      return 1.0f / (1.0f + expf(-x));
    case ActivationKind::kTanh:
      return tanhf(x);
  }
  return x;
}

}  // namespace qrt::cuda::gemm_int8
