// The error report on hand-worked cases.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "ir/quant_error.h"

using namespace qrt;
using namespace qrt::ir;

TEST_CASE("quantization_error: exact reconstruction") {
  const std::vector<float> t = {1.0f, -2.0f, 3.0f};
  Result<QuantizationError> e = quantization_error(t, t);
  REQUIRE(e.is_ok());
  CHECK(e->max_abs_error == 0.0);
  CHECK(e->mean_abs_error == 0.0);
  CHECK(e->relative_error_pct == 0.0);
  CHECK(std::isinf(e->snr_db));
  CHECK(e->snr_db > 0);
  CHECK(e->cosine_similarity == doctest::Approx(1.0).epsilon(1e-12));
}

TEST_CASE("quantization_error: hand-worked values") {
  // t = [3, 4, 0.001, 0], t̂ = [3, 3, 0.002, 1]: errors 0, 1, 0.001, 1.
  const std::vector<float> t = {3.0f, 4.0f, 0.001f, 0.0f};
  const std::vector<float> r = {3.0f, 3.0f, 0.002f, 1.0f};
  Result<QuantizationError> e = quantization_error(t, r);
  REQUIRE(e.is_ok());
  CHECK(e->max_abs_error == doctest::Approx(1.0));
  CHECK(e->mean_abs_error == doctest::Approx((1.0 + 0.001 + 1.0) / 4.0));
  // Relative: elements with |t| >= 1e-3·4 = 0.004 only (3 and 4): 1/4 = 25%. The 0.001 element
  // (100% off) and the zero one are below the floor.
  CHECK(e->relative_error_pct == doctest::Approx(25.0));
  // Σt² = 25.000001, Σe² = 2.000001 -> 10·log10(12.5) = 10.969 dB.
  CHECK(e->snr_db == doctest::Approx(10.0 * std::log10(25.000001 / 2.000001)).epsilon(1e-6));
  // <t, t̂> = 9 + 12 + 2e-6, |t| = 5.0000001, |t̂| = sqrt(19.000004).
  const double cosine = (21.000002) / (std::sqrt(25.000001) * std::sqrt(19.000004));
  CHECK(e->cosine_similarity == doctest::Approx(cosine).epsilon(1e-6));
}

TEST_CASE("quantization_error: all-zero and sign-flipped inputs") {
  const std::vector<float> zero = {0.0f, 0.0f};
  Result<QuantizationError> z = quantization_error(zero, zero);
  REQUIRE(z.is_ok());
  CHECK(std::isinf(z->snr_db));
  CHECK(z->cosine_similarity == 1.0);
  const std::vector<float> t = {1.0f, -2.0f};
  const std::vector<float> neg = {-1.0f, 2.0f};
  Result<QuantizationError> f = quantization_error(t, neg);
  REQUIRE(f.is_ok());
  CHECK(f->cosine_similarity == doctest::Approx(-1.0));
  CHECK(f->snr_db == doctest::Approx(10.0 * std::log10(5.0 / 20.0)));
  CHECK(f->relative_error_pct == doctest::Approx(200.0));
  Result<QuantizationError> g = quantization_error(zero, t);
  REQUIRE(g.is_ok());
  CHECK(g->cosine_similarity == 0.0);
  CHECK(std::isinf(g->snr_db));
  CHECK(g->snr_db < 0);
}

TEST_CASE("quantization_error: argument validation") {
  const std::vector<float> a = {1.0f, 2.0f};
  const std::vector<float> b = {1.0f};
  Result<QuantizationError> size = quantization_error(a, b);
  REQUIRE_FALSE(size.is_ok());
  CHECK(size.status().message().find("2 elements") != std::string::npos);
  REQUIRE_FALSE(quantization_error(std::vector<float>{}, std::vector<float>{}).is_ok());
  const std::vector<float> nan = {1.0f, std::numeric_limits<float>::quiet_NaN()};
  Result<QuantizationError> bad = quantization_error(a, nan);
  REQUIRE_FALSE(bad.is_ok());
  CHECK(bad.status().message().find("reconstructed element 1") != std::string::npos);
  Result<QuantizationError> bad2 = quantization_error(nan, a);
  REQUIRE_FALSE(bad2.is_ok());
  CHECK(bad2.status().message().find("original element 1") != std::string::npos);
}
