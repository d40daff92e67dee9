// ir/half.h: float <-> f16 / bf16 with round-to-nearest-even, checked against hand-computed bit
// patterns and, for random floats, against the definition (no representable value is closer).
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "ir/half.h"
#include "tests/support/random.h"

namespace {

using namespace qrt::ir;

float from_bits(uint32_t b) {
  return std::bit_cast<float>(b);
}

TEST_CASE("f16: hand-checked values, ties to even, overflow, subnormals, inf and NaN") {
  CHECK(float_to_f16_bits(1.0f) == 0x3C00);
  CHECK(float_to_f16_bits(-2.0f) == 0xC000);
  CHECK(float_to_f16_bits(0.1f) == 0x2E66);       // 0.0999755859375, the nearest f16
  CHECK(float_to_f16_bits(65504.0f) == 0x7BFF);   // largest finite
  CHECK(float_to_f16_bits(65519.99f) == 0x7BFF);  // below the midpoint to 65536
  CHECK(float_to_f16_bits(65520.0f) == 0x7C00);   // the tie goes to even: inf
  CHECK(float_to_f16_bits(-1e9f) == 0xFC00);
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: even mantissa (1) wins; 1 + 3·2^-11 rounds up.
  CHECK(float_to_f16_bits(1.0f + std::ldexp(1.0f, -11)) == 0x3C00);
  CHECK(float_to_f16_bits(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3C02);
  // Subnormals are multiples of 2^-24.
  CHECK(float_to_f16_bits(std::ldexp(1.0f, -24)) == 0x0001);
  CHECK(float_to_f16_bits(std::ldexp(1.0f, -25)) == 0x0000);  // tie to even zero
  CHECK(float_to_f16_bits(std::ldexp(1.5f, -25)) == 0x0001);
  CHECK(float_to_f16_bits(std::ldexp(3.0f, -25)) == 0x0002);     // 1.5 units: tie to 2
  CHECK(float_to_f16_bits(std::ldexp(1023.0f, -24)) == 0x03FF);  // largest subnormal
  CHECK(float_to_f16_bits(std::ldexp(2047.0f, -25)) == 0x0400);  // rounds up to smallest normal
  CHECK(float_to_f16_bits(-0.0f) == 0x8000);
  CHECK(float_to_f16_bits(std::numeric_limits<float>::infinity()) == 0x7C00);
  const uint16_t nan = float_to_f16_bits(std::numeric_limits<float>::quiet_NaN());
  CHECK((nan & 0x7C00) == 0x7C00);
  CHECK((nan & 0x03FF) != 0);
  CHECK(std::isnan(f16_bits_to_float(float_to_f16_bits(from_bits(0x7F800001)))));  // signalling
  CHECK(f16_bits_to_float(0x0001) == std::ldexp(1.0f, -24));
  CHECK(f16_bits_to_float(0x7BFF) == 65504.0f);
  CHECK(f16_bits_to_float(0xFC00) == -std::numeric_limits<float>::infinity());
  CHECK(std::signbit(f16_bits_to_float(0x8000)));
  static_assert(float_to_f16_bits(1.0f) == 0x3C00, "usable in constant expressions");
}

TEST_CASE("bf16: hand-checked values, ties to even, inf and NaN") {
  CHECK(float_to_bf16_bits(1.0f) == 0x3F80);
  CHECK(float_to_bf16_bits(from_bits(0x3F808000)) == 0x3F80);              // tie, even kept
  CHECK(float_to_bf16_bits(from_bits(0x3F818000)) == 0x3F82);              // tie, odd rounds up
  CHECK(float_to_bf16_bits(from_bits(0x3F808001)) == 0x3F81);              // above the tie
  CHECK(float_to_bf16_bits(std::numeric_limits<float>::max()) == 0x7F80);  // rounds to inf
  CHECK(float_to_bf16_bits(-std::numeric_limits<float>::infinity()) == 0xFF80);
  CHECK(std::isnan(bf16_bits_to_float(float_to_bf16_bits(from_bits(0x7F800001)))));
  CHECK(std::isnan(bf16_bits_to_float(float_to_bf16_bits(from_bits(0xFFC00000)))));
  CHECK(bf16_bits_to_float(0x4049) == 3.140625f);
}

TEST_CASE("every f16 and bf16 bit pattern survives the round trip through float") {
  int f16_failures = 0, bf16_failures = 0;
  for (uint32_t b = 0; b <= 0xFFFF; ++b) {
    const auto bits = static_cast<uint16_t>(b);
    const float h = f16_bits_to_float(bits);
    if (std::isnan(h) ? !std::isnan(f16_bits_to_float(float_to_f16_bits(h)))
                      : float_to_f16_bits(h) != bits)
      ++f16_failures;
    const float bf = bf16_bits_to_float(bits);
    if (std::isnan(bf) ? !std::isnan(bf16_bits_to_float(float_to_bf16_bits(bf)))
                       : float_to_bf16_bits(bf) != bits)
      ++bf16_failures;
  }
  CHECK(f16_failures == 0);
  CHECK(bf16_failures == 0);
}

// Round to nearest: neither neighbour of the chosen code is strictly closer (compared in double,
// exact for these magnitudes); at a tie the chosen code is even.
template <typename ToBits, typename ToFloat>
int nearest_violations(const std::vector<float>& xs, ToBits to_bits, ToFloat to_float) {
  int violations = 0;
  for (float x : xs) {
    const uint16_t b = to_bits(x);
    const double err = std::fabs(static_cast<double>(to_float(b)) - x);
    for (int step : {-1, 1}) {
      const auto nb = static_cast<uint16_t>(b + step);
      const double other = static_cast<double>(to_float(nb));
      if (std::isnan(other) || std::signbit(other) != std::signbit(x)) continue;
      const double nerr = std::fabs(other - x);
      if (nerr < err || (nerr == err && (b & 1u))) ++violations;
    }
  }
  return violations;
}

TEST_CASE("random floats round to the nearest f16 / bf16") {
  constexpr uint64_t kSeed = 77;
  MESSAGE("seed " << kSeed);
  std::vector<float> xs = qrt::testing::random_floats(20000, kSeed, -70000.0f, 70000.0f);
  const std::vector<float> small = qrt::testing::random_normal(20000, kSeed + 1, 1e-4f);
  xs.insert(xs.end(), small.begin(), small.end());
  const auto to_f16 = [](float v) { return float_to_f16_bits(v); };
  const auto from_f16 = [](uint16_t b) { return f16_bits_to_float(b); };
  const auto to_bf16 = [](float v) { return float_to_bf16_bits(v); };
  const auto from_bf16 = [](uint16_t b) { return bf16_bits_to_float(b); };
  std::vector<float> finite_f16;
  for (float x : xs)
    if (std::fabs(x) < 65504.0f) finite_f16.push_back(x);
  REQUIRE(finite_f16.size() > 10000);
  CHECK(nearest_violations(finite_f16, to_f16, from_f16) == 0);
  CHECK(nearest_violations(xs, to_bf16, from_bf16) == 0);
  CHECK(round_to_f16(1.0f / 3.0f) != 1.0f / 3.0f);  // the data are not all exactly representable
}

}  // namespace
