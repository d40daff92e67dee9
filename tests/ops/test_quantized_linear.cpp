// Quantized Linear kernels (ops/quantized/) against independent float64 computations of the
// formulas in docs/quantization.md §2-§6; integer paths checked exactly; supports() rejections.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ir/half.h"
#include "ir/quant_formats.h"
#include "ir/quantize.h"
#include "ops/quantized/decoded_projection.h"
#include "tests/ops/quantized_harness.h"
#include "tests/support/random.h"

namespace qrt::testing {
namespace {

// Unit roundoff of float: a float dot product of length K is within K·u·Σ|terms| of the exact sum
// whatever the order (Higham, eq. 3.5); the epilogue adds a few more roundings, hence K + 4.
constexpr double kU = 0x1p-24;
// Unit roundoff of the output rounding: f16 has 11 significant bits, bf16 8.
constexpr double kF16U = 0x1p-11;
constexpr double kBF16U = 0x1p-8;

struct Dims {
  ir::Shape lead;
  int64_t K, N;
};
// Leading dims flatten to M rows; shapes with 1 and primes.
const Dims kShapes[] = {{{1}, 1, 1},     {{}, 7, 13},     {{3}, 64, 1},  {{5}, 257, 131},
                        {{2, 3}, 13, 7}, {{1, 1}, 31, 2}, {{11}, 97, 37}};

ir::Shape x_shape(const Dims& d) {
  ir::Shape s = d.lead;
  s.push_back(d.K);
  return s;
}
ir::Shape y_shape(const Dims& d) {
  ir::Shape s = d.lead;
  s.push_back(d.N);
  return s;
}

ir::QuantParams per_channel(std::vector<float> scales) {
  ir::QuantParams q;
  q.scheme = ir::QuantScheme::kSymmetricPerChannel;
  q.axis = 0;
  q.scales = std::move(scales);
  return q;
}

QCase linear_case(const std::string& precision, QInput x, QInput w, std::optional<QInput> b,
                  const ir::Shape& y) {
  QCase c;
  c.op = ir::OpKind::kLinear;
  c.attrs = ir::LinearAttrs{};
  c.precision.precision = precision;
  c.inputs = {std::move(x), std::move(w)};
  if (b) c.inputs.push_back(std::move(*b));
  c.output_shapes = {y};
  return c;
}

QInput int8_weight_input(const std::vector<int8_t>& codes, const ir::Shape& shape,
                         std::vector<float> scales) {
  return raw_constant("w", ir::DType::kI8, shape, codes.data(), codes.size(),
                      per_channel(std::move(scales)));
}

// Symmetric int8 of one row as docs/quantization.md §1 states it (float arithmetic, ties to even),
// over the columns not in `skip`.
float quantize_row(const float* x, int64_t K, const std::vector<bool>& skip, int32_t* q) {
  float max_abs = 0.0f;
  for (int64_t k = 0; k < K; ++k)
    if (!skip[k]) max_abs = std::max(max_abs, std::fabs(x[k]));
  const float s = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
  for (int64_t k = 0; k < K; ++k)
    q[k] =
        skip[k] ? 0 : static_cast<int32_t>(std::clamp(std::nearbyint(x[k] / s), -127.0f, 127.0f));
  return s;
}

// Reference for int8-dynamic (with the LLM.int8() decomposition when threshold > 0). Returns the
// values and, per element, the magnitude the float tolerance scales with.
void dynamic_reference(const std::vector<float>& x, int64_t M, int64_t K,
                       const std::vector<int8_t>& qw, const std::vector<float>& sw, int64_t N,
                       const std::vector<float>* b, float threshold, std::vector<double>& ref,
                       std::vector<double>& magnitude, int64_t* outlier_count) {
  std::vector<bool> outlier(K, false);
  if (threshold > 0)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t k = 0; k < K; ++k)
        if (std::fabs(x[m * K + k]) >= threshold) outlier[k] = true;
  *outlier_count = std::count(outlier.begin(), outlier.end(), true);
  ref.assign(M * N, 0.0);
  magnitude.assign(M * N, 0.0);
  std::vector<int32_t> q(K);
  for (int64_t m = 0; m < M; ++m) {
    const float s = quantize_row(&x[m * K], K, outlier, q.data());
    for (int64_t n = 0; n < N; ++n) {
      int64_t acc = 0;
      double out = 0, out_mag = 0;
      for (int64_t k = 0; k < K; ++k) {
        acc += int64_t{q[k]} * qw[n * K + k];
        if (outlier[k]) {
          const double t = double(x[m * K + k]) * sw[n] * qw[n * K + k];
          out += t;
          out_mag += std::fabs(t);
        }
      }
      const double int_part = double(s) * sw[n] * double(acc);
      const double bias = b ? (*b)[n] : 0.0;
      ref[m * N + n] = int_part + out + bias;
      magnitude[m * N + n] = std::fabs(int_part) + out_mag + std::fabs(bias);
    }
  }
}

TEST_CASE("int8-dynamic Linear: integer inputs give the exact int32 sum") {
  // Every x row holds ±127 in a regular column and the weight scales are 1, so s_x = s_w = 1 and
  // y = Σ x·qw exactly (|Σ| < 2^24, so the float epilogue is exact too). With threshold 128, row 0
  // puts |x| >= 128 in every column k % 5 == 3: those columns take the float path, which is exact
  // on these integers, and must not enter the row scale (else s_x != 1 and the check fails).
  uint64_t seed = 5100;
  for (const Dims& d : kShapes) {
    for (float threshold : {0.0f, 128.0f, 1000.0f}) {
      ++seed;
      INFO("seed " << seed << " K " << d.K << " N " << d.N << " threshold " << threshold);
      const int64_t M = ir::numel(d.lead);
      auto is_outlier_column = [&](int64_t k) { return threshold == 128.0f && k % 5 == 3; };
      std::vector<float> x(M * d.K);
      for (int64_t i = 0; i < M * d.K; ++i) x[i] = float(random_int(seed * 7919 + i, -127, 127));
      for (int64_t k = 0; k < d.K; ++k)
        if (is_outlier_column(k)) x[k] = float(random_int(seed + k, 128, 300)) * (k % 2 ? -1 : 1);
      for (int64_t m = 0; m < M; ++m) x[m * d.K] = (m % 2) ? -127.0f : 127.0f;  // column 0
      std::vector<int8_t> qw(d.N * d.K);
      for (int64_t i = 0; i < d.N * d.K; ++i)
        qw[i] = static_cast<int8_t>(random_int(seed * 104729 + i, -127, 127));
      QCase c = linear_case("int8-dynamic", f32_input("x", x_shape(d), x),
                            int8_weight_input(qw, {d.N, d.K}, std::vector<float>(d.N, 1.0f)),
                            std::nullopt, y_shape(d));
      c.precision.outlier_threshold = threshold;
      auto got = run_quantized_op(c);
      REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
      CHECK(got->kernel == "cpu.reference.linear.int8-dynamic");
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < d.N; ++n) {
          int64_t acc = 0;
          for (int64_t k = 0; k < d.K; ++k) acc += int64_t(x[m * d.K + k]) * qw[n * d.K + k];
          REQUIRE(got->outputs[0][m * d.N + n] == float(acc));
        }
    }
  }
}

TEST_CASE("int8-dynamic Linear: random data, outliers engaged and not engaged") {
  uint64_t seed = 5200;
  for (const Dims& d : kShapes) {
    for (bool with_outliers : {false, true}) {
      for (bool with_bias : {false, true}) {
        ++seed;
        const int64_t M = ir::numel(d.lead);
        INFO("seed " << seed << " M " << M << " K " << d.K << " N " << d.N << " outliers "
                     << with_outliers << " bias " << with_bias);
        std::vector<float> x = random_floats(M * d.K, seed, -2.0f, 2.0f);
        const float threshold = with_outliers ? 6.0f : 0.0f;
        if (with_outliers)  // a few large activations, as LLM.int8() sees them
          for (int64_t i = 0; i < std::max<int64_t>(1, M * d.K / 50); ++i)
            x[random_int(seed + 31 * i, 0, M * d.K - 1)] = (i % 2 ? -1.0f : 1.0f) * (6.0f + i);
        const std::vector<float> wf = random_normal(d.N * d.K, seed + 1);
        auto w = ir::quantize_weight_per_channel({wf, {d.N, d.K}});
        REQUIRE(w.is_ok());
        std::vector<float> b = random_floats(d.N, seed + 2);
        std::optional<QInput> bias;
        if (with_bias) bias = f32_constant("b", {d.N}, b);
        QCase c = linear_case("int8-dynamic", f32_input("x", x_shape(d), x),
                              int8_weight_input(w->codes, {d.N, d.K}, w->params.scales), bias,
                              y_shape(d));
        c.precision.outlier_threshold = threshold;
        auto got = run_quantized_op(c);
        REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
        std::vector<double> ref, mag;
        int64_t outliers = 0;
        dynamic_reference(x, M, d.K, w->codes, w->params.scales, d.N, with_bias ? &b : nullptr,
                          threshold, ref, mag, &outliers);
        if (with_outliers) CHECK(outliers > 0);
        if (d.K < ops::quantized::kMinQuantizedK) {
          // Short reductions run from f32 weights decoded at prepare (the dispatch rule of
          // ops/quantized/projection.cpp): y = Σ_k x·(s_w·q) + b, x not rounded to int8.
          for (int64_t m = 0; m < M; ++m)
            for (int64_t n = 0; n < d.N; ++n) {
              double acc = with_bias ? b[n] : 0.0, abs_sum = with_bias ? std::fabs(b[n]) : 0.0;
              for (int64_t k = 0; k < d.K; ++k) {
                const double term = double{x[m * d.K + k]} *
                                    double{w->params.scales[n] * float(w->codes[n * d.K + k])};
                acc += term;
                abs_sum += std::fabs(term);
              }
              ref[m * d.N + n] = acc;
              mag[m * d.N + n] = abs_sum;
            }
        }
        for (int64_t i = 0; i < M * d.N; ++i)
          REQUIRE_MESSAGE(std::fabs(got->outputs[0][i] - ref[i]) <= (d.K + 4) * kU * mag[i],
                          "element " << i << " got " << got->outputs[0][i] << " want " << ref[i]);
      }
    }
  }
}

TEST_CASE("int8-dynamic: the test's row quantizer agrees with ir::quantize_symmetric per row") {
  const uint64_t seed = 5300;
  INFO("seed " << seed);
  const int64_t M = 5, K = 37;
  const std::vector<float> x = random_floats(M * K, seed, -3.0f, 3.0f);
  ir::QuantizeSpec spec;
  spec.granularity = ir::Granularity::kPerRow;
  auto q = ir::quantize_symmetric({x, {M, K}}, spec);
  REQUIRE(q.is_ok());
  std::vector<int32_t> mine(K);
  for (int64_t m = 0; m < M; ++m) {
    const float s = quantize_row(&x[m * K], K, std::vector<bool>(K, false), mine.data());
    CHECK(s == q->params.scales[m]);
    for (int64_t k = 0; k < K; ++k) REQUIRE(mine[k] == q->codes[m * K + k]);
  }
}

// Static activation parameters: symmetric (z = 0, [-127, 127]) or affine (uint8 range).
struct StaticAct {
  float scale;
  int32_t zero_point;
  bool affine;
};

ir::QuantParams static_params(const StaticAct& a) {
  ir::QuantParams q;
  q.scheme = a.affine ? ir::QuantScheme::kAffinePerTensor : ir::QuantScheme::kSymmetricPerTensor;
  q.scales = {a.scale};
  if (a.affine) q.zero_points = {a.zero_point};
  return q;
}

TEST_CASE("int8-static Linear: integer inputs give the exact folded int32 sum") {
  // s_x = 1 and integer x in range: qx − z_x = x, so y = Σ x·qw exactly (weight scales 1).
  uint64_t seed = 5400;
  for (const Dims& d : kShapes) {
    for (const StaticAct a :
         {StaticAct{1.0f, 0, false}, StaticAct{1.0f, 128, true}, StaticAct{1.0f, 37, true}}) {
      ++seed;
      INFO("seed " << seed << " K " << d.K << " N " << d.N << " zero point " << a.zero_point
                   << " affine " << a.affine);
      const int64_t M = ir::numel(d.lead);
      const int64_t lo = a.affine ? -a.zero_point : -127, hi = a.affine ? 255 - a.zero_point : 127;
      std::vector<float> x(M * d.K);
      for (int64_t i = 0; i < M * d.K; ++i) x[i] = float(random_int(seed * 7919 + i, lo, hi));
      std::vector<int8_t> qw(d.N * d.K);
      for (int64_t i = 0; i < d.N * d.K; ++i)
        qw[i] = static_cast<int8_t>(random_int(seed * 104729 + i, -127, 127));
      QCase c = linear_case("int8-static", f32_input("x", x_shape(d), x, static_params(a)),
                            int8_weight_input(qw, {d.N, d.K}, std::vector<float>(d.N, 1.0f)),
                            std::nullopt, y_shape(d));
      auto got = run_quantized_op(c);
      REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
      CHECK(got->kernel == "cpu.reference.linear.int8-static");
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < d.N; ++n) {
          int64_t acc = 0;
          for (int64_t k = 0; k < d.K; ++k) acc += int64_t(x[m * d.K + k]) * qw[n * d.K + k];
          REQUIRE(got->outputs[0][m * d.N + n] == float(acc));
        }
    }
  }
}

TEST_CASE("int8-static Linear: random data against the float64 formula, with clipping") {
  uint64_t seed = 5500;
  for (const Dims& d : kShapes) {
    for (bool affine : {false, true}) {
      ++seed;
      const int64_t M = ir::numel(d.lead);
      INFO("seed " << seed << " M " << M << " K " << d.K << " N " << d.N << " affine " << affine);
      // Calibrated range [-1.5, 2.5] (symmetric: max 2.5) while x spans [-2, 3]: some values clip.
      std::vector<float> x = random_floats(M * d.K, seed, -2.0f, 3.0f);
      StaticAct a{2.5f / 127.0f, 0, false};
      if (affine) {
        a.affine = true;
        a.scale = 4.0f / 255.0f;
        a.zero_point = static_cast<int32_t>(std::nearbyint(0.0f - (-1.5f) / a.scale));
      }
      const std::vector<float> wf = random_normal(d.N * d.K, seed + 1);
      auto w = ir::quantize_weight_per_channel({wf, {d.N, d.K}});
      REQUIRE(w.is_ok());
      const std::vector<float> b = random_floats(d.N, seed + 2);
      QCase c = linear_case("int8-static", f32_input("x", x_shape(d), x, static_params(a)),
                            int8_weight_input(w->codes, {d.N, d.K}, w->params.scales),
                            f32_constant("b", {d.N}, b), y_shape(d));
      auto got = run_quantized_op(c);
      REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
      const float qmin = affine ? 0.0f : -127.0f, qmax = affine ? 255.0f : 127.0f;
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < d.N; ++n) {
          int64_t acc = 0;
          for (int64_t k = 0; k < d.K; ++k) {
            const float q =
                std::clamp(std::nearbyint(x[m * d.K + k] / a.scale) + a.zero_point, qmin, qmax);
            acc += (int64_t(q) - a.zero_point) * w->codes[n * d.K + k];
          }
          const double int_part = double(a.scale) * w->params.scales[n] * double(acc);
          const double ref = int_part + b[n];
          const double tol = 8 * kU * (std::fabs(int_part) + std::fabs(b[n]));
          REQUIRE_MESSAGE(std::fabs(got->outputs[0][m * d.N + n] - ref) <= tol,
                          "m " << m << " n " << n);
        }
    }
  }
}

TEST_CASE("w8a16 Linear: float activations against dequantized weights") {
  uint64_t seed = 5600;
  for (const Dims& d : kShapes) {
    ++seed;
    const int64_t M = ir::numel(d.lead);
    INFO("seed " << seed << " M " << M << " K " << d.K << " N " << d.N);
    const std::vector<float> x = random_floats(M * d.K, seed);
    const std::vector<float> wf = random_normal(d.N * d.K, seed + 1);
    auto w = ir::quantize_weight_per_channel({wf, {d.N, d.K}});
    REQUIRE(w.is_ok());
    const std::vector<float> b = random_floats(d.N, seed + 2);
    QCase c = linear_case("w8a16", f32_input("x", x_shape(d), x),
                          int8_weight_input(w->codes, {d.N, d.K}, w->params.scales),
                          f32_constant("b", {d.N}, b), y_shape(d));
    auto got = run_quantized_op(c);
    REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
    CHECK(got->kernel == "cpu.reference.linear.w8a16");
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < d.N; ++n) {
        double ref = b[n], mag = std::fabs(b[n]);
        for (int64_t k = 0; k < d.K; ++k) {
          const double t =
              double(x[m * d.K + k]) * (double(w->params.scales[n]) * w->codes[n * d.K + k]);
          ref += t;
          mag += std::fabs(t);
        }
        REQUIRE(std::fabs(got->outputs[0][m * d.N + n] - ref) <= (d.K + 4) * kU * mag);
      }
  }
}

// NF4 element (n, k) of W [N, K] decoded as docs/quantization.md §5 states it.
float nf4_element(const ir::Nf4Weight& w, int64_t K, int64_t n, int64_t k) {
  const int64_t e = n * K + k;
  const uint8_t byte = w.packed[e / 2];
  const uint8_t code = (e % 2 == 0) ? byte >> 4 : byte & 0x0F;
  const int64_t block = e / w.params.block_size;
  const float absmax =
      w.params.double_quant
          ? w.params.absmax_codes[block] * w.params.group_scales[block / w.params.group_size] +
                w.params.absmax_offset
          : w.params.scales[block];
  return absmax * ir::kNF4Codebook[code];
}

TEST_CASE("nf4 Linear: float activations against the decoded NF4 weights") {
  struct NfDims {
    int64_t M, K, N, block;
  };
  const NfDims cases[] = {
      {1, 64, 1, 64}, {3, 64, 13, 32}, {7, 256, 37, 64}, {2, 128, 3, 128}, {5, 4096, 2, 4096}};
  uint64_t seed = 5700;
  for (const NfDims& d : cases) {
    for (bool double_quant : {false, true}) {
      ++seed;
      INFO("seed " << seed << " M " << d.M << " K " << d.K << " N " << d.N << " block " << d.block
                   << " double quant " << double_quant);
      const std::vector<float> x = random_floats(d.M * d.K, seed);
      const std::vector<float> wf = random_normal(d.N * d.K, seed + 1);
      auto w = ir::quantize_nf4({wf, {d.N, d.K}}, d.block, double_quant);
      REQUIRE_MESSAGE(w.is_ok(), w.status().to_string());
      const std::vector<float> b = random_floats(d.N, seed + 2);
      QCase c = linear_case("nf4", f32_input("x", {d.M, d.K}, x),
                            raw_constant("w", ir::DType::kNF4, {d.N, d.K}, w->packed.data(),
                                         w->packed.size(), w->params),
                            f32_constant("b", {d.N}, b), {d.M, d.N});
      auto got = run_quantized_op(c);
      REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
      CHECK(got->kernel == "cpu.reference.linear.nf4");
      double nonzero = 0;
      for (int64_t m = 0; m < d.M; ++m)
        for (int64_t n = 0; n < d.N; ++n) {
          double ref = b[n], mag = std::fabs(b[n]);
          for (int64_t k = 0; k < d.K; ++k) {
            const double t = double(x[m * d.K + k]) * nf4_element(*w, d.K, n, k);
            ref += t;
            mag += std::fabs(t);
          }
          nonzero += std::fabs(ref);
          // + 4: the absmax decode (a multiply-add) may round differently in the kernel.
          REQUIRE(std::fabs(got->outputs[0][m * d.N + n] - ref) <= (d.K + 8) * kU * mag);
        }
      CHECK(nonzero > 0);
    }
  }
}

TEST_CASE("fp16 / bf16 Linear: half inputs and weights, f32 accumulation, half output") {
  uint64_t seed = 5800;
  for (const Dims& d : kShapes) {
    for (bool bf16 : {false, true}) {
      for (bool half_bias : {false, true}) {
        ++seed;
        const int64_t M = ir::numel(d.lead);
        INFO("seed " << seed << " M " << M << " K " << d.K << " N " << d.N << " bf16 " << bf16
                     << " half bias " << half_bias);
        auto to_half = [bf16](float v) {
          return bf16 ? ir::float_to_bf16_bits(v) : ir::float_to_f16_bits(v);
        };
        auto from_half = [bf16](uint16_t v) {
          return bf16 ? ir::bf16_bits_to_float(v) : ir::f16_bits_to_float(v);
        };
        const ir::DType dt = bf16 ? ir::DType::kBF16 : ir::DType::kF16;
        const std::vector<float> x = random_floats(M * d.K, seed, -3.0f, 3.0f);
        const std::vector<float> wf = random_normal(d.N * d.K, seed + 1);
        const std::vector<float> bf = random_floats(d.N, seed + 2);
        std::vector<uint16_t> wh(wf.size()), bh(bf.size());
        for (std::size_t i = 0; i < wf.size(); ++i) wh[i] = to_half(wf[i]);
        for (std::size_t i = 0; i < bf.size(); ++i) bh[i] = to_half(bf[i]);
        QInput bias = half_bias
                          ? raw_constant("b", dt, {d.N}, bh.data(), bh.size() * 2, std::nullopt)
                          : f32_constant("b", {d.N}, bf);
        const std::string precision = bf16 ? "bf16" : "fp16";
        QCase c =
            linear_case(precision, f32_input("x", x_shape(d), x),
                        raw_constant("w", dt, {d.N, d.K}, wh.data(), wh.size() * 2, std::nullopt),
                        bias, y_shape(d));
        auto got = run_quantized_op(c);
        REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
        CHECK(got->kernel == "cpu.reference.linear." + precision);
        const double half_u = bf16 ? kBF16U : kF16U;
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < d.N; ++n) {
            const double bn = half_bias ? from_half(bh[n]) : bf[n];
            double ref = bn, mag = std::fabs(bn);
            for (int64_t k = 0; k < d.K; ++k) {
              // The activation rounded by the test's own route: through the bit pattern.
              const double t =
                  double(from_half(to_half(x[m * d.K + k]))) * from_half(wh[n * d.K + k]);
              ref += t;
              mag += std::fabs(t);
            }
            const float v = got->outputs[0][m * d.N + n];
            CHECK(from_half(to_half(v)) == v);  // the output is a half value
            const double acc_tol = (d.K + 2) * kU * mag;
            REQUIRE(std::fabs(v - ref) <= half_u * (std::fabs(ref) + acc_tol) + acc_tol);
          }
      }
    }
  }
}

TEST_CASE("supports() accepts exactly each precision's graph form") {
  const int64_t K = 8, N = 3;
  const std::vector<float> x = random_floats(2 * K, 5900);
  const std::vector<int8_t> qw(N * K, 1);
  const std::vector<uint16_t> wh(N * K, ir::float_to_f16_bits(0.5f));
  const std::vector<float> wf(N * K, 0.5f);
  auto i8 = [&] { return int8_weight_input(qw, {N, K}, std::vector<float>(N, 0.1f)); };
  auto f16 = [&] {
    return raw_constant("w", ir::DType::kF16, {N, K}, wh.data(), wh.size() * 2, std::nullopt);
  };
  auto f32w = [&] { return f32_constant("w", {N, K}, wf); };
  auto plain_x = [&] { return f32_input("x", {2, K}, x); };
  auto calibrated_x = [&] { return f32_input("x", {2, K}, x, static_params({0.01f, 0, false})); };
  auto kernel = [&](const std::string& p, QInput xin, QInput w) {
    return selected_kernel(linear_case(p, std::move(xin), std::move(w), std::nullopt, {2, N}));
  };
  CHECK(kernel("int8-dynamic", plain_x(), i8()) == "cpu.reference.linear.int8-dynamic");
  CHECK(kernel("w8a16", plain_x(), i8()) == "cpu.reference.linear.w8a16");
  CHECK(kernel("int8-static", calibrated_x(), i8()) == "cpu.reference.linear.int8-static");
  CHECK(kernel("fp16", plain_x(), f16()) == "cpu.reference.linear.fp16");
  CHECK(kernel("fp32", plain_x(), f32w()) == "cpu.reference.linear");
  // Mismatches: no kernel, so a strict session names the node.
  CHECK(kernel("int8-dynamic", plain_x(), f16()) == "");
  CHECK(kernel("bf16", plain_x(), f16()) == "");
  CHECK(kernel("fp32", plain_x(), i8()) == "");
  CHECK(kernel("fp16", plain_x(), f32w()) == "");
  CHECK(kernel("int8-static", plain_x(), i8()) == "");        // no calibrated scale on x
  CHECK(kernel("int8-dynamic", calibrated_x(), i8()) == "");  // parameters it would ignore
  CHECK(kernel("nf4", plain_x(), i8()) == "");
  CHECK(kernel("no-such-precision", plain_x(), f32w()) == "");
  // Per-tensor int8 weights are not the per-channel form the int8 kernels read.
  ir::QuantParams per_tensor;
  per_tensor.scheme = ir::QuantScheme::kSymmetricPerTensor;
  per_tensor.scales = {0.1f};
  CHECK(kernel("w8a16", plain_x(),
               raw_constant("w", ir::DType::kI8, {N, K}, qw.data(), qw.size(), per_tensor)) == "");
}

TEST_CASE("prepare names the tensor at fault") {
  const int64_t K = 8, N = 3;
  const std::vector<float> x = random_floats(2 * K, 6000);
  const std::vector<int8_t> qw(N * K, 1);
  // Two scales for three output channels.
  auto r = run_quantized_op(linear_case("w8a16", f32_input("x", {2, K}, x),
                                        int8_weight_input(qw, {N, K}, {0.1f, 0.2f}), std::nullopt,
                                        {2, N}));
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().to_string().find("op_under_test") != std::string::npos);
  CHECK(r.status().to_string().find("'w'") != std::string::npos);
  // Weight [N, K] against x with K + 1 features.
  const std::vector<float> x2 = random_floats(2 * (K + 1), 6001);
  auto r2 = run_quantized_op(linear_case("int8-dynamic", f32_input("x", {2, K + 1}, x2),
                                         int8_weight_input(qw, {N, K}, {0.1f, 0.2f, 0.3f}),
                                         std::nullopt, {2, N}));
  REQUIRE_FALSE(r2.is_ok());
  CHECK(r2.status().to_string().find("weight") != std::string::npos);
}

}  // namespace
}  // namespace qrt::testing
