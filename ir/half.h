// Conversions between float and the two 16-bit float formats stored in qrt tensors (DType::kF16,
// DType::kBF16). Values travel as their raw uint16_t bit patterns, the way they sit in tensor
// storage, so kernels on every backend can use these without a half type of their own.
//
// float -> 16 bit rounds to nearest, ties to even (IEEE 754 default, what torch.Tensor.half() and
// .bfloat16() do). Infinities keep their sign; NaN stays NaN (made quiet, top payload bits kept);
// finite values too large for the format round to infinity exactly when IEEE rounding says so
// (f16: |x| >= 65520); values below the smallest subnormal round to signed zero.
// 16 bit -> float is exact (both formats are subsets of float).
#pragma once

#include <bit>
#include <cstdint>

namespace qrt::ir {

// IEEE 754 binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
constexpr uint16_t float_to_f16_bits(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t magnitude = bits & 0x7FFFFFFFu;

  if (magnitude >= 0x7F800000u) {  // inf or NaN
    if (magnitude == 0x7F800000u) return sign | 0x7C00u;
    return static_cast<uint16_t>(sign | 0x7E00u | ((magnitude >> 13) & 0x03FFu));
  }
  // 65520 = halfway between 65504 (largest f16) and 65536; the tie goes to the even neighbour, inf.
  if (magnitude >= 0x477FF000u) return sign | 0x7C00u;

  if (magnitude >= 0x38800000u) {  // normal f16 (|x| >= 2^-14)
    // Re-bias the exponent (127 -> 15) and drop 13 mantissa bits with round-to-nearest-even; a
    // carry out of the mantissa correctly bumps the exponent.
    const uint32_t rebased = magnitude - 0x38000000u;
    uint32_t result = rebased >> 13;
    const uint32_t dropped = rebased & 0x1FFFu;
    if (dropped > 0x1000u || (dropped == 0x1000u && (result & 1u))) ++result;
    return static_cast<uint16_t>(sign | result);
  }

  // Subnormal f16: units of 2^-24. |x| <= 2^-25 is at most half a unit: rounds to (even) zero.
  if (magnitude <= 0x33000000u) return sign;
  const uint32_t exponent = magnitude >> 23;                          // 102..112 here
  const uint32_t mantissa = (magnitude & 0x007FFFFFu) | 0x00800000u;  // implicit leading 1
  const uint32_t shift = 126u - exponent;                             // 14..24
  uint32_t result = mantissa >> shift;
  const uint32_t dropped = mantissa & ((1u << shift) - 1u);
  const uint32_t halfway = 1u << (shift - 1u);
  if (dropped > halfway || (dropped == halfway && (result & 1u))) ++result;  // may become 0x0400
  return static_cast<uint16_t>(sign | result);
}

constexpr float f16_bits_to_float(uint16_t half) {
  const uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
  const uint32_t exponent = (half >> 10) & 0x1Fu;
  const uint32_t mantissa = half & 0x03FFu;
  if (exponent == 0x1Fu) return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in float.
    const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    return sign ? -magnitude : magnitude;
  }
  return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

// bfloat16: the top 16 bits of a float (1 sign, 8 exponent, 7 mantissa bits).
constexpr uint16_t float_to_bf16_bits(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) {  // NaN: keep sign and top payload, force quiet
    return static_cast<uint16_t>((bits >> 16) | 0x0040u);
  }
  // Round to nearest even on the low 16 bits; overflow of the largest finite values carries into
  // the exponent and yields inf, as IEEE rounding requires.
  const uint32_t rounding = 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

constexpr float bf16_bits_to_float(uint16_t bf16) {
  return std::bit_cast<float>(static_cast<uint32_t>(bf16) << 16);
}

// Rounds a float through the 16-bit format and back: the value an f16 / bf16 tensor would hold.
constexpr float round_to_f16(float value) {
  return f16_bits_to_float(float_to_f16_bits(value));
}
constexpr float round_to_bf16(float value) {
  return bf16_bits_to_float(float_to_bf16_bits(value));
}

}  // namespace qrt::ir
