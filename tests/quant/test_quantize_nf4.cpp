// NF4: the codebook bit for bit, ties to the lower index, nibble order, block absmax, double
// quantization (close to the plain absmax, always positive), verify accepts the parameters.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ir/quant_error.h"
#include "ir/quant_formats.h"
#include "ir/quantize.h"
#include "tests/quant/verify_helper.h"
#include "tests/support/random.h"

using namespace qrt;
using namespace qrt::ir;

namespace {

FloatTensorView view(const std::vector<float>& v, Shape shape) {
  return {v, std::move(shape)};
}

// Independent nearest-codebook search: distances in double, ties to the lower index.
uint8_t nearest_code(float x) {
  uint8_t best = 0;
  for (uint8_t i = 1; i < 16; ++i)
    if (std::fabs(double(x) - kNF4Codebook[i]) < std::fabs(double(x) - kNF4Codebook[best]))
      best = i;
  return best;
}

uint8_t code_at(const std::vector<uint8_t>& packed, size_t i) {
  return i % 2 == 0 ? packed[i / 2] >> 4 : packed[i / 2] & 0x0F;
}

}  // namespace

TEST_CASE("nf4_encode: codebook values, midpoints, out of range") {
  for (uint8_t i = 0; i < 16; ++i) CHECK(nf4_encode(kNF4Codebook[i]) == i);
  for (uint8_t i = 0; i + 1 < 16; ++i) {
    const float mid = 0.5f * (kNF4Codebook[i] + kNF4Codebook[i + 1]);
    INFO("midpoint " << int(i) << " " << mid);
    CHECK(nf4_encode(mid) == i);  // a tie goes to the lower index
    CHECK(nf4_encode(std::nextafter(mid, 2.0f)) == i + 1);
    CHECK(nf4_encode(std::nextafter(mid, -2.0f)) == i);
  }
  CHECK(nf4_encode(-7.0f) == 0);
  CHECK(nf4_encode(3.0f) == 15);
  CHECK(nf4_encode(-0.0f) == 7);

  const uint64_t seed = 4242;
  MESSAGE("seed " << seed);
  const std::vector<float> xs = testing::random_floats(20000, seed, -1.0f, 1.0f);
  size_t mismatches = 0;
  for (float x : xs) mismatches += nf4_encode(x) != nearest_code(x);
  CHECK(mismatches == 0);
}

TEST_CASE("quantize_nf4: packing order, block absmax, exact codebook multiples") {
  // Row of 64 = two blocks of 32: element i is kNF4Codebook[i % 16] times 2 (block 0) or 0.5
  // (block 1), so codes are i % 16 and the absmax is 2 and 0.5 exactly.
  std::vector<float> w(64);
  for (size_t i = 0; i < 64; ++i) w[i] = kNF4Codebook[i % 16] * (i < 32 ? 2.0f : 0.5f);
  Result<Nf4Weight> q = quantize_nf4(view(w, {1, 64}), 32, /*double_quant=*/false);
  REQUIRE(q.is_ok());
  REQUIRE(q->packed.size() == 32);
  // Byte j holds element 2j in the high nibble: 0x01, 0x23, ..., 0xEF, repeated.
  for (size_t j = 0; j < 32; ++j) {
    const uint8_t hi = (2 * j) % 16, lo = (2 * j + 1) % 16;
    CHECK(q->packed[j] == static_cast<uint8_t>(hi << 4 | lo));
  }
  CHECK(q->params.scheme == QuantScheme::kNF4Block);
  CHECK(q->params.block_size == 32);
  CHECK_FALSE(q->params.double_quant);
  CHECK(q->params.scales == std::vector<float>{2.0f, 0.5f});
  Result<std::vector<float>> back = dequantize_nf4(q->packed, {1, 64}, q->params);
  REQUIRE(back.is_ok());
  CHECK(*back == w);
}

TEST_CASE("quantize_nf4: all-zero block gets absmax 1 and code 0.0") {
  std::vector<float> w(2 * 32, 0.0f);
  for (size_t i = 32; i < 64; ++i) w[i] = static_cast<float>(i) - 40.0f;
  Result<Nf4Weight> q = quantize_nf4(view(w, {2, 32}), 32, false);
  REQUIRE(q.is_ok());
  CHECK(q->params.scales == std::vector<float>{1.0f, 23.0f});
  for (size_t j = 0; j < 16; ++j) CHECK(q->packed[j] == 0x77);
  Result<std::vector<float>> back = dequantize_nf4(q->packed, {2, 32}, q->params);
  REQUIRE(back.is_ok());
  for (size_t i = 0; i < 32; ++i) CHECK((*back)[i] == 0.0f);
}

TEST_CASE("quantize_nf4: random shapes against an independent encoder, verify accepts") {
  struct Case {
    Shape shape;
    int64_t block;
  };
  const std::vector<Case> cases = {{{1, 32}, 32},      {{7, 64}, 64},   {{13, 128}, 32},
                                   {{3, 5, 256}, 128}, {{67, 512}, 32}, {{1, 4096}, 4096}};
  uint64_t seed = 900;
  for (const Case& c : cases) {
    for (bool dq : {false, true}) {
      ++seed;
      int64_t n = 1;
      for (int64_t d : c.shape) n *= d;
      INFO("seed " << seed << " shape " << shape_to_string(c.shape) << " block " << c.block
                   << " double_quant " << dq);
      std::vector<float> w = testing::random_normal(static_cast<size_t>(n), seed, 0.05f);
      Result<Nf4Weight> q = quantize_nf4(view(w, c.shape), c.block, dq);
      REQUIRE(q.is_ok());
      const size_t blocks = static_cast<size_t>(n / c.block);
      REQUIRE(q->packed.size() == static_cast<size_t>(n / 2));
      std::vector<float> plain(blocks, 0.0f);
      for (size_t i = 0; i < static_cast<size_t>(n); ++i)
        plain[i / static_cast<size_t>(c.block)] =
            std::max(plain[i / static_cast<size_t>(c.block)], std::fabs(w[i]));
      for (size_t i = 0; i < static_cast<size_t>(n); ++i)
        REQUIRE(code_at(q->packed, i) ==
                nearest_code(w[i] / plain[i / static_cast<size_t>(c.block)]));

      const std::vector<float> absmax = nf4_block_absmax(q->params);
      REQUIRE(absmax.size() == blocks);
      if (dq) {
        // Double quant: codes replace scales, groups of 256 blocks, offset = mean absmax, and each
        // decoded absmax within half a group step of the plain one.
        CHECK(q->params.scales.empty());
        CHECK(q->params.group_size == kNF4DoubleQuantGroup);
        CHECK(q->params.group_scales.size() == (blocks + 255) / 256);
        double mean = 0;
        for (float a : plain) mean += a;
        mean /= static_cast<double>(blocks);
        CHECK(q->params.absmax_offset == doctest::Approx(mean).epsilon(1e-6));
        for (size_t b = 0; b < blocks; ++b) {
          const float step = q->params.group_scales[b / 256];
          CHECK(absmax[b] > 0.0f);
          // Half a code step plus float rounding of code·scale + offset.
          CHECK(std::fabs(absmax[b] - plain[b]) <= 0.5f * step * (1.0f + 1e-4f) + 1e-6f * plain[b]);
        }
      } else {
        CHECK(absmax == plain);
      }
      Result<std::vector<float>> back = dequantize_nf4(q->packed, c.shape, q->params);
      REQUIRE(back.is_ok());
      for (size_t i = 0; i < static_cast<size_t>(n); ++i)
        REQUIRE((*back)[i] ==
                kNF4Codebook[code_at(q->packed, i)] * absmax[i / static_cast<size_t>(c.block)]);
      Result<QuantizationError> e = quantization_error(w, *back);
      REQUIRE(e.is_ok());
      MESSAGE("shape " << shape_to_string(c.shape) << " block " << c.block << " dq " << dq
                       << ": snr " << e->snr_db << " dB");
      CHECK(e->snr_db > 15.0);  // NF4 on normal data is ~20 dB; far below means a broken encoder
      if (c.shape.size() == 2) {
        const Status v =
            quant_testing::verify_as_linear_weight(DType::kNF4, c.shape, q->packed, q->params);
        CHECK_MESSAGE(v.is_ok(), v.to_string());
      }
    }
  }
}

TEST_CASE("double quantization keeps every decoded absmax positive") {
  // One all-zero block among 255 blocks of absmax 1000 in a group: the centred values span
  // [-offset, 1000 - offset], so the zero block's code decodes to about 0 and float rounding may
  // land at or below 0. A tiny (1e-30) block in the next group has the same problem.
  const int64_t block = 32;
  const size_t blocks = 512;
  std::vector<float> w(blocks * block, 0.0f);
  for (size_t b = 1; b < blocks; ++b)
    for (size_t i = 0; i < static_cast<size_t>(block); ++i)
      w[b * block + i] = (i % 2 ? -1000.0f : 999.0f);
  for (size_t i = 0; i < static_cast<size_t>(block); ++i) w[300 * block + i] = 1e-30f;
  Result<Nf4Weight> q = quantize_nf4(view(w, {16, 1024}), block, true);
  REQUIRE(q.is_ok());
  const std::vector<float> absmax = nf4_block_absmax(q->params);
  REQUIRE(absmax.size() == blocks);
  for (size_t b = 0; b < blocks; ++b) {
    INFO("block " << b << " code " << int(q->params.absmax_codes[b]));
    CHECK(std::isfinite(absmax[b]));
    CHECK(absmax[b] > 0.0f);
    CHECK(std::fma(float(q->params.absmax_codes[b]), q->params.group_scales[b / 256],
                   q->params.absmax_offset) > 0.0f);
  }
  Result<std::vector<float>> back = dequantize_nf4(q->packed, {16, 1024}, q->params);
  REQUIRE(back.is_ok());
  for (size_t i = 0; i < static_cast<size_t>(block); ++i) CHECK((*back)[i] == 0.0f);
  const Status v =
      quant_testing::verify_as_linear_weight(DType::kNF4, {16, 1024}, q->packed, q->params);
  CHECK_MESSAGE(v.is_ok(), v.to_string());

  // All-zero tensor: offset 1, every code 0, decoded absmax 1, reconstruction exact.
  std::vector<float> zeros(2 * 64, 0.0f);
  Result<Nf4Weight> z = quantize_nf4(view(zeros, {2, 64}), 64, true);
  REQUIRE(z.is_ok());
  CHECK(z->params.absmax_offset == 1.0f);
  CHECK(nf4_block_absmax(z->params) == std::vector<float>{1.0f, 1.0f});
  CHECK(*dequantize_nf4(z->packed, {2, 64}, z->params) == zeros);
}

TEST_CASE("nf4 argument validation") {
  const std::vector<float> w(96, 0.5f);
  auto fails_with = [](const Status& s, const std::string& part) {
    INFO("status: " << s.to_string());
    CHECK_FALSE(s.is_ok());
    CHECK(s.message().find(part) != std::string::npos);
  };
  fails_with(quantize_nf4(view(w, {1, 96}), 64).status(), "does not divide the last dim 96");
  fails_with(quantize_nf4(view(w, {1, 96}), 48).status(), "block size 48");
  fails_with(quantize_nf4(view(w, {1, 96}), 16).status(), "block size 16");
  fails_with(quantize_nf4(view(w, {2, 96}), 32).status(), "holds 96");
  fails_with(quantize_nf4(view({}, {0, 64}), 32).status(), "empty");
  std::vector<float> bad = w;
  bad[17] = -std::numeric_limits<float>::infinity();
  fails_with(quantize_nf4(view(bad, {1, 96}), 32).status(), "element 17");

  Result<Nf4Weight> q = quantize_nf4(view(w, {3, 32}), 32, true);
  REQUIRE(q.is_ok());
  fails_with(dequantize_nf4(q->packed, {3, 64}, q->params).status(), "48 packed bytes");
  QuantParams p = q->params;
  p.absmax_codes.pop_back();
  fails_with(dequantize_nf4(q->packed, {3, 32}, p).status(), "2 absmax codes");
  p = q->params;
  p.group_scales = {};
  fails_with(dequantize_nf4(q->packed, {3, 32}, p).status(), "0 group scales");
  CHECK(nf4_block_absmax(p).empty());
  p = q->params;
  p.scheme = QuantScheme::kSymmetricPerTensor;
  fails_with(dequantize_nf4(q->packed, {3, 32}, p).status(), "expected nf4-block");
}
