// Symmetric and affine integer quantization: formulas on hand-worked cases, every granularity on
// random shapes against an independent per-slice computation, the s/2 error bound, exact zero.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ir/quantize.h"
#include "tests/quant/verify_helper.h"
#include "tests/support/random.h"

using namespace qrt;
using namespace qrt::ir;

namespace {

// Reconstruction error, in units of the scale, beyond the ideal s/2: t/s and s·(q - z) are each
// rounded to float (relative error 2^-24 on values up to 255 code units, ~1.5e-5 units each).
constexpr double kCodeUnitSlack = 1e-4;

QuantizeSpec spec_of(int bits, Granularity g, int axis = 0, int64_t block = 0) {
  QuantizeSpec s;
  s.bits = bits;
  s.granularity = g;
  s.axis = axis;
  s.block_size = block;
  return s;
}

FloatTensorView view(const std::vector<float>& v, Shape shape) {
  return {v, std::move(shape)};
}

// Slice of element i found by unravelling its multi-index (independent of the library's
// (i / inner) % count formula).
int64_t slice_by_index(const Shape& shape, const QuantizeSpec& spec, int64_t i) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = i % shape[d];
    i /= shape[d];
  }
  const int rank = static_cast<int>(shape.size());
  switch (spec.granularity) {
    case Granularity::kPerTensor:
      return 0;
    case Granularity::kPerChannel:
      return idx[static_cast<size_t>(spec.axis < 0 ? spec.axis + rank : spec.axis)];
    case Granularity::kPerRow:
    case Granularity::kPerBlock: {
      int64_t row = 0;
      for (size_t d = 0; d + 1 < shape.size(); ++d) row = row * shape[d] + idx[d];
      if (spec.granularity == Granularity::kPerRow) return row;
      const int64_t blocks_per_row = shape.back() / spec.block_size;
      return row * blocks_per_row + idx.back() / spec.block_size;
    }
  }
  return -1;
}

int64_t slice_count(const Shape& shape, const QuantizeSpec& spec) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  const int rank = static_cast<int>(shape.size());
  switch (spec.granularity) {
    case Granularity::kPerTensor:
      return 1;
    case Granularity::kPerChannel:
      return shape[static_cast<size_t>(spec.axis < 0 ? spec.axis + rank : spec.axis)];
    case Granularity::kPerRow:
      return n / shape.back();
    case Granularity::kPerBlock:
      return n / spec.block_size;
  }
  return -1;
}

}  // namespace

TEST_CASE("symmetric: hand-worked codes, half to even, all-zero channel") {
  // bits 3: qmax = 3. absmax 3 -> s = 1; -1.5 -> -2 and 2.5 -> 2 and 0.5 -> 0 (half to even).
  const std::vector<float> t = {3.0f, -1.5f, 0.5f, 2.5f, 0.0f};
  Result<QuantizedTensor> q = quantize_symmetric(view(t, {5}), spec_of(3, Granularity::kPerTensor));
  REQUIRE(q.is_ok());
  CHECK(q->codes == std::vector<int32_t>{3, -2, 0, 2, 0});
  CHECK(q->params.scheme == QuantScheme::kSymmetricPerTensor);
  CHECK(q->params.scales == std::vector<float>{1.0f});
  CHECK(q->params.zero_points.empty());

  // bits 8 per tensor: absmax 127 -> s = 1, -63.5 -> -64.
  const std::vector<float> t8 = {127.0f, -63.5f, 1.5f, -2.5f};
  Result<QuantizedTensor> q8 =
      quantize_symmetric(view(t8, {2, 2}), spec_of(8, Granularity::kPerTensor));
  REQUIRE(q8.is_ok());
  CHECK(q8->codes == std::vector<int32_t>{127, -64, 2, -2});

  // Per channel on axis 1 of [[1, -3, 0], [3, 6, 0]], bits 3: column absmax 3, 6, 0 -> s = 1, 2, 1
  // (the all-zero column gets s = 1); -3 / 2 = -1.5 -> -2.
  const std::vector<float> m = {1.0f, -3.0f, 0.0f, 3.0f, 6.0f, 0.0f};
  Result<QuantizedTensor> qc =
      quantize_symmetric(view(m, {2, 3}), spec_of(3, Granularity::kPerChannel, 1));
  REQUIRE(qc.is_ok());
  CHECK(qc->params.scheme == QuantScheme::kSymmetricPerChannel);
  CHECK(qc->params.axis == 1);
  CHECK(qc->params.scales == std::vector<float>{1.0f, 2.0f, 1.0f});
  CHECK(qc->codes == std::vector<int32_t>{1, -2, 0, 3, 3, 0});
  Result<std::vector<float>> back = dequantize(*qc);
  REQUIRE(back.is_ok());
  CHECK(*back == std::vector<float>{1.0f, -4.0f, 0.0f, 3.0f, 6.0f, 0.0f});

  // Per row of a [2, 2]: rows absmax 2 and 0.
  const std::vector<float> r = {2.0f, -1.0f, 0.0f, 0.0f};
  Result<QuantizedTensor> qr =
      quantize_symmetric(view(r, {2, 2}), spec_of(2, Granularity::kPerRow));
  REQUIRE(qr.is_ok());  // bits 2: qmax = 1, s = 2 and 1; -1 / 2 = -0.5 -> 0 (half to even)
  CHECK(qr->params.scales == std::vector<float>{2.0f, 1.0f});
  CHECK(qr->codes == std::vector<int32_t>{1, 0, 0, 0});
}

TEST_CASE("affine: hand-worked scale, zero point and codes") {
  // uint8, range [-1, 254]: s = 255 / 255 = 1, z = round(0 - (-1) / 1) = 1.
  const std::vector<float> u = {-1.0f, 0.0f, 254.0f, 10.5f};
  Result<QuantizedTensor> qu =
      quantize_affine(view(u, {4}), spec_of(8, Granularity::kPerTensor), true);
  REQUIRE(qu.is_ok());
  CHECK(qu->params.scheme == QuantScheme::kAffinePerTensor);
  CHECK(qu->params.scales == std::vector<float>{1.0f});
  CHECK(qu->params.zero_points == std::vector<int32_t>{1});
  CHECK(qu->codes == std::vector<int32_t>{0, 1, 255, 11});  // 10.5 -> 10 (even), + z

  // int8, data [0, 255] (all >= 0, so the range is already [0, 255]): s = 1, z = -128.
  const std::vector<float> s = {0.0f, 255.0f, 100.0f};
  Result<QuantizedTensor> qs =
      quantize_affine(view(s, {3}), spec_of(8, Granularity::kPerTensor), false);
  REQUIRE(qs.is_ok());
  CHECK(qs->params.zero_points == std::vector<int32_t>{-128});
  CHECK(qs->codes == std::vector<int32_t>{-128, 127, -28});
  Result<std::vector<float>> back = dequantize(*qs);
  REQUIRE(back.is_ok());
  CHECK(*back == s);

  // bits 2 unsigned, data [3, 1.5] all positive: widened to [0, 3], s = 1, z = 0; 1.5 -> 2.
  const std::vector<float> p = {3.0f, 1.5f};
  Result<QuantizedTensor> qp =
      quantize_affine(view(p, {2}), spec_of(2, Granularity::kPerTensor), true);
  REQUIRE(qp.is_ok());
  CHECK(qp->params.scales == std::vector<float>{1.0f});
  CHECK(qp->params.zero_points == std::vector<int32_t>{0});
  CHECK(qp->codes == std::vector<int32_t>{3, 2});

  // All-zero slice: s = 1, z = round(qmin - 0) = qmin, reconstruction exact.
  const std::vector<float> z = {0.0f, 0.0f, 0.0f};
  Result<QuantizedTensor> qz =
      quantize_affine(view(z, {3}), spec_of(8, Granularity::kPerTensor), false);
  REQUIRE(qz.is_ok());
  CHECK(qz->params.scales == std::vector<float>{1.0f});
  CHECK(qz->params.zero_points == std::vector<int32_t>{-128});
  CHECK(*dequantize(*qz) == z);
}

TEST_CASE("narrowing codes for storage") {
  const std::vector<float> s = {0.0f, 255.0f};
  Result<QuantizedTensor> qu =
      quantize_affine(view(s, {2}), spec_of(8, Granularity::kPerTensor), true);
  REQUIRE(qu.is_ok());
  Result<std::vector<uint8_t>> as_u8 = to_uint8(*qu);
  REQUIRE(as_u8.is_ok());
  CHECK(*as_u8 == std::vector<uint8_t>{0, 255});
  // A [0, 255] range stored as int8 would wrap: refused, naming the element.
  Result<std::vector<int8_t>> as_i8 = to_int8(*qu);
  REQUIRE_FALSE(as_i8.is_ok());
  CHECK(as_i8.status().message().find("element 1") != std::string::npos);
}

TEST_CASE("every granularity on random shapes: scales, codes, s/2 bound, exact zero") {
  struct Case {
    Shape shape;
    QuantizeSpec spec;
  };
  const std::vector<Case> cases = {
      {{1}, spec_of(8, Granularity::kPerTensor)},
      {{7}, spec_of(8, Granularity::kPerRow)},
      {{1, 13}, spec_of(8, Granularity::kPerChannel, 0)},
      {{13, 1}, spec_of(4, Granularity::kPerChannel, 0)},
      {{5, 11}, spec_of(8, Granularity::kPerChannel, 1)},
      {{3, 7, 11}, spec_of(6, Granularity::kPerChannel, -2)},
      {{3, 7, 11}, spec_of(8, Granularity::kPerRow)},
      {{17, 1}, spec_of(8, Granularity::kPerRow)},
      {{13, 64}, spec_of(8, Granularity::kPerBlock, 0, 16)},
      {{2, 3, 21}, spec_of(5, Granularity::kPerBlock, 0, 7)},
      {{31, 1}, spec_of(2, Granularity::kPerBlock, 0, 1)},
      {{29, 37}, spec_of(8, Granularity::kPerTensor)},
  };
  uint64_t seed = 1000;
  for (const Case& c : cases) {
    for (bool affine : {false, true}) {
      for (bool unsigned_range : {false, true}) {
        if (!affine && unsigned_range) continue;
        ++seed;
        int64_t n = 1;
        for (int64_t d : c.shape) n *= d;
        // Scale each slice differently and plant exact zeros, so per-slice scales matter and zero
        // must come back exactly; affine cases use one-sided data to exercise the widened range.
        std::vector<float> t =
            testing::random_floats(static_cast<size_t>(n), seed, affine ? -0.5f : -2.0f, 2.0f);
        for (int64_t i = 0; i < n; ++i) {
          t[static_cast<size_t>(i)] *=
              1.0f + static_cast<float>(slice_by_index(c.shape, c.spec, i) % 5);
          if (i % 4 == 3) t[static_cast<size_t>(i)] = 0.0f;
        }
        INFO("seed " << seed << " shape " << shape_to_string(c.shape) << " bits " << c.spec.bits
                     << " granularity " << static_cast<int>(c.spec.granularity) << " affine "
                     << affine << " unsigned " << unsigned_range);
        REQUIRE(testing::max_abs(t) > 0.0f);
        Result<QuantizedTensor> q = affine
                                        ? quantize_affine(view(t, c.shape), c.spec, unsigned_range)
                                        : quantize_symmetric(view(t, c.shape), c.spec);
        REQUIRE(q.is_ok());
        const int64_t slices = slice_count(c.shape, c.spec);
        REQUIRE(q->params.scales.size() == static_cast<size_t>(slices));
        REQUIRE(q->codes.size() == static_cast<size_t>(n));

        // Independent per-slice statistics.
        std::vector<double> lo(static_cast<size_t>(slices), 0.0),
            hi(static_cast<size_t>(slices), 0.0);
        for (int64_t i = 0; i < n; ++i) {
          const size_t s = static_cast<size_t>(slice_by_index(c.shape, c.spec, i));
          lo[s] = std::min(lo[s], double(t[static_cast<size_t>(i)]));
          hi[s] = std::max(hi[s], double(t[static_cast<size_t>(i)]));
        }
        const int32_t qmin = affine ? (unsigned_range ? 0 : -(1 << (c.spec.bits - 1)))
                                    : -((1 << (c.spec.bits - 1)) - 1);
        const int32_t qmax = unsigned_range ? (1 << c.spec.bits) - 1 : (1 << (c.spec.bits - 1)) - 1;
        for (size_t s = 0; s < static_cast<size_t>(slices); ++s) {
          const double range = affine ? hi[s] - lo[s] : std::max(-lo[s], hi[s]);
          const double expected = range == 0.0 ? 1.0 : range / (affine ? qmax - qmin : qmax);
          CHECK(q->params.scales[s] == static_cast<float>(expected));
        }
        Result<std::vector<float>> back = dequantize(*q);
        REQUIRE(back.is_ok());
        std::vector<int32_t> slice_peak(static_cast<size_t>(slices), 0);
        for (int64_t i = 0; i < n; ++i) {
          const size_t s = static_cast<size_t>(slice_by_index(c.shape, c.spec, i));
          const size_t e = static_cast<size_t>(i);
          const double scale = q->params.scales[s];
          const int32_t zp = affine ? q->params.zero_points[s] : 0;
          REQUIRE(q->codes[e] >= qmin);
          REQUIRE(q->codes[e] <= qmax);
          CHECK((*back)[e] == static_cast<float>(scale) * static_cast<float>(q->codes[e] - zp));
          CHECK(std::fabs(double(t[e]) - (*back)[e]) <= scale * (0.5 + kCodeUnitSlack));
          if (t[e] == 0.0f) CHECK((*back)[e] == 0.0f);
          slice_peak[s] = std::max(slice_peak[s], std::abs(q->codes[e] - zp));
        }
        // Symmetric: the largest |t| of each non-zero slice lands on ±qmax (the scale is tight).
        if (!affine)
          for (size_t s = 0; s < static_cast<size_t>(slices); ++s)
            if (hi[s] > 0.0 || lo[s] < 0.0) CHECK(slice_peak[s] == qmax);
      }
    }
  }
}

TEST_CASE("quantize_weight_per_channel: int8 codes, params verify accepts") {
  const uint64_t seed = 77;
  MESSAGE("seed " << seed);
  const Shape shape = {19, 37};
  std::vector<float> w = testing::random_normal(19 * 37, seed, 0.3f);
  for (size_t k = 0; k < 37; ++k) w[5 * 37 + k] = 0.0f;  // an all-zero output channel
  Result<Int8Weight> q = quantize_weight_per_channel(view(w, shape));
  REQUIRE(q.is_ok());
  CHECK(q->params.scheme == QuantScheme::kSymmetricPerChannel);
  CHECK(q->params.axis == 0);
  REQUIRE(q->params.scales.size() == 19);
  CHECK(q->params.scales[5] == 1.0f);
  REQUIRE(q->codes.size() == w.size());
  for (size_t n = 0; n < 19; ++n) {
    float absmax = 0;
    for (size_t k = 0; k < 37; ++k) absmax = std::max(absmax, std::fabs(w[n * 37 + k]));
    if (n != 5) CHECK(q->params.scales[n] == absmax / 127.0f);
    for (size_t k = 0; k < 37; ++k) {
      const int8_t code = q->codes[n * 37 + k];
      CHECK(code >= -127);
      CHECK(std::fabs(w[n * 37 + k] - q->params.scales[n] * code) <=
            q->params.scales[n] * (0.5 + kCodeUnitSlack));
    }
  }
  std::vector<uint8_t> bytes(q->codes.size());
  std::copy(q->codes.begin(), q->codes.end(), reinterpret_cast<int8_t*>(bytes.data()));
  const Status v = quant_testing::verify_as_linear_weight(DType::kI8, shape, bytes, q->params);
  CHECK_MESSAGE(v.is_ok(), v.to_string());
}

TEST_CASE("argument validation names the problem") {
  const std::vector<float> ok = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f};
  auto fails_with = [](const Status& s, const std::string& part) {
    INFO("status: " << s.to_string());
    CHECK_FALSE(s.is_ok());
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(s.message().find(part) != std::string::npos);
  };
  fails_with(quantize_symmetric(view({}, {0}), spec_of(8, Granularity::kPerTensor)).status(),
             "empty");
  fails_with(quantize_symmetric(view(ok, {2, 2}), spec_of(8, Granularity::kPerTensor)).status(),
             "holds 6");
  std::vector<float> bad = ok;
  bad[4] = std::numeric_limits<float>::quiet_NaN();
  fails_with(quantize_affine(view(bad, {2, 3}), spec_of(8, Granularity::kPerTensor), true).status(),
             "element 4");
  bad[4] = std::numeric_limits<float>::infinity();
  fails_with(quantize_symmetric(view(bad, {2, 3}), spec_of(8, Granularity::kPerTensor)).status(),
             "element 4");
  fails_with(quantize_symmetric(view(ok, {2, 3}), spec_of(1, Granularity::kPerTensor)).status(),
             "bits 1");
  fails_with(quantize_affine(view(ok, {2, 3}), spec_of(9, Granularity::kPerTensor), false).status(),
             "bits 9");
  fails_with(quantize_symmetric(view(ok, {2, 3}), spec_of(8, Granularity::kPerChannel, 2)).status(),
             "axis 2");
  fails_with(
      quantize_symmetric(view(ok, {2, 3}), spec_of(8, Granularity::kPerChannel, -3)).status(),
      "axis -3");
  fails_with(
      quantize_symmetric(view(ok, {2, 3}), spec_of(8, Granularity::kPerBlock, 0, 2)).status(),
      "block size 2");
  fails_with(
      quantize_symmetric(view(ok, {2, 3}), spec_of(8, Granularity::kPerBlock, 0, 0)).status(),
      "block size 0");
  fails_with(quantize_symmetric(view({1.0f}, {}), spec_of(8, Granularity::kPerRow)).status(),
             "scalar");
  fails_with(quantize_weight_per_channel(view(ok, {6})).status(), "[N, K]");

  Result<QuantizedTensor> q =
      quantize_symmetric(view(ok, {2, 3}), spec_of(8, Granularity::kPerChannel, 0));
  REQUIRE(q.is_ok());
  QuantizedTensor wrong = *q;
  wrong.params.scales.pop_back();
  fails_with(dequantize(wrong).status(), "1 scales, expected 2");
  wrong = *q;
  wrong.params.scales[1] = 0.0f;
  fails_with(dequantize(wrong).status(), "scale 1");
  wrong = *q;
  wrong.codes.pop_back();
  fails_with(dequantize(wrong).status(), "5 codes");
}
