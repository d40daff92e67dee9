// Scalar definitions of the activation functions, shared by the activation kernels and LSTM.
// Each is written to stay finite for every finite input (no overflow in exp for large |x|).
#pragma once

#include <cmath>

namespace qrt::ops {

// σ(x) = 1 / (1 + e^-x). For x < 0 the equivalent e^x / (1 + e^x) is used so exp never sees a
// large positive argument: both branches stay in (0, 1] with no inf/inf.
inline float sigmoid(float x) {
  if (x >= 0.0f) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
}

// ReLU: max(x, 0); a NaN input stays NaN (as in PyTorch).
inline float relu(float x) {
  return x < 0.0f ? 0.0f : x;
}

// LeakyReLU: x for x >= 0, negative_slope·x otherwise.
inline float leaky_relu(float x, float negative_slope) {
  return x < 0.0f ? negative_slope * x : x;
}

// GELU, exact form (PyTorch approximate="none"): 0.5·x·(1 + erf(x/√2)).
inline float gelu_erf(float x) {
  constexpr float kInvSqrt2 = 0.70710678118654752440f;
  return 0.5f * x * (1.0f + std::erf(x * kInvSqrt2));
}

// GELU, tanh form (PyTorch approximate="tanh"): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
// For huge |x| the cube overflows to ±inf and tanh saturates to ±1, which is still the right limit.
inline float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.79788456080286535588f;
  constexpr float kCubicCoeff = 0.044715f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + kCubicCoeff * x * x * x)));
}

// SiLU (swish): x·σ(x).
inline float silu(float x) {
  return x * sigmoid(x);
}

}  // namespace qrt::ops
