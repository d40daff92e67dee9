// The fast quantized projections (ops/quantized/projection.h, make_projection) against the
// reference projections that define each precision (make_reference_projection): int8-dynamic and
// int8-static bit for bit (same codes, same int32 sums, same epilogue order), the weight-only forms
// within float summation-order error, the decoded-f32 fallback for short reductions against f32 on
// the dequantized weights, and the NaN / inf rejection of run-time int8 quantization.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "ir/half.h"
#include "ir/quantize.h"
#include "ops/quantized/decoded_projection.h"
#include "ops/quantized/projection.h"
#include "ops/quantized/quantized_support.h"
#include "tests/ops/quantized_harness.h"
#include "tests/support/random.h"

namespace qrt::testing {
namespace {

using ops::quantized::ActivationQuant;
using ops::quantized::Projection;
using ops::quantized::ProjectionSpec;

// A Linear case whose weight has the graph form of `precision`; x has `rows` rows of K values.
QCase linear_case(const std::string& precision, int64_t rows, int64_t N, int64_t K, uint64_t seed,
                  bool with_bias = true) {
  const std::vector<float> wf = random_normal(N * K, seed + 1, 0.2f);
  QCase c;
  c.op = ir::OpKind::kLinear;
  c.attrs = ir::LinearAttrs{};
  c.precision.precision = precision;
  c.inputs.push_back(f32_input("x", {rows, K}, random_floats(rows * K, seed, -2.0f, 2.0f)));
  if (precision == "fp16" || precision == "bf16") {
    const bool bf16 = precision == "bf16";
    std::vector<uint16_t> h(wf.size());
    for (std::size_t i = 0; i < wf.size(); ++i)
      h[i] = bf16 ? ir::float_to_bf16_bits(wf[i]) : ir::float_to_f16_bits(wf[i]);
    c.inputs.push_back(raw_constant("w", bf16 ? ir::DType::kBF16 : ir::DType::kF16, {N, K},
                                    h.data(), h.size() * 2, std::nullopt));
  } else {
    auto q = ir::quantize_weight_per_channel({wf, {N, K}});
    REQUIRE(q.is_ok());
    c.inputs.push_back(
        raw_constant("w", ir::DType::kI8, {N, K}, q->codes.data(), q->codes.size(), q->params));
  }
  if (with_bias) c.inputs.push_back(f32_constant("b", {N}, random_floats(N, seed + 2)));
  c.output_shapes = {{rows, N}};
  return c;
}

struct Built {
  ir::Graph graph;
  std::unique_ptr<Projection> fast, reference;
};

Built build(const QCase& c, const ActivationQuant& activation = {}) {
  Built b{quantized_graph(c), nullptr, nullptr};
  const ir::Node& node = b.graph.nodes[0];
  ProjectionSpec spec;
  spec.node = &node;
  spec.what = "weight";
  spec.weight = &b.graph.values[static_cast<std::size_t>(node.inputs[1])];
  spec.bias =
      node.inputs.size() > 2 ? &b.graph.values[static_cast<std::size_t>(node.inputs[2])] : nullptr;
  spec.N = spec.weight->shape[0];
  spec.K = spec.weight->shape[1];
  spec.input = "input 'x'";
  spec.activation = activation;
  const auto precision = *ir::precision_from_name(c.precision.precision);
  auto fast = ops::quantized::make_projection(precision, spec);
  auto reference = ops::quantized::make_reference_projection(precision, spec);
  REQUIRE_MESSAGE(fast.is_ok(), fast.status().to_string());
  REQUIRE_MESSAGE(reference.is_ok(), reference.status().to_string());
  b.fast = std::move(*fast);
  b.reference = std::move(*reference);
  return b;
}

// Runs `p` on x [rows, K] with a row stride of K + 3 and y with a row stride of N + 5 (strided
// LSTM use), NaN-poisoned; returns the dense [rows, N] result.
Result<std::vector<float>> run(const Projection& p, const QCase& c, const std::vector<float>& x,
                               int64_t rows, int64_t N, int64_t K) {
  const int64_t ldx = K + 3, ldy = N + 5;
  std::vector<float> xs(rows * ldx, 1e30f), ys(rows * ldy, std::nanf(""));
  for (int64_t m = 0; m < rows; ++m)
    for (int64_t k = 0; k < K; ++k) xs[m * ldx + k] = x[m * K + k];
  std::vector<std::byte> ws(p.workspace_bytes(rows) + 64);
  void* aligned = ws.data() + (64 - reinterpret_cast<uintptr_t>(ws.data()) % 64) % 64;
  const void* w = c.inputs[1].value.data->data();
  const void* bias = c.inputs.size() > 2 ? c.inputs[2].value.data->data() : nullptr;
  QRT_RETURN_IF_ERROR(p.run_checked(rows, xs.data(), ldx, w, bias, ys.data(), ldy, aligned, {}));
  std::vector<float> y(rows * N);
  for (int64_t m = 0; m < rows; ++m) {
    for (int64_t n = 0; n < N; ++n) y[m * N + n] = ys[m * ldy + n];
    for (int64_t n = N; n < ldy; ++n) CHECK(std::isnan(ys[m * ldy + n]));  // untouched
  }
  return y;
}

struct Shape3 {
  int64_t rows, N, K;
};
const Shape3 kShapes[] = {{1, 1, 16},  {1, 512, 128}, {2, 17, 31},   {3, 67, 129},
                          {7, 13, 64}, {96, 40, 17},  {5, 130, 600}, {33, 64, 257}};

// The fast projection of `b` runs the int8 GEMM and gives the reference's output bit for bit, and
// that output is not trivially small (max |y| > `min_max_abs`).
void check_int8_gemm_bit_identical(const Built& b, const QCase& c, const Shape3& s,
                                   float min_max_abs) {
  CHECK(b.fast->describe().find("int8 GEMM") != std::string::npos);
  auto got = run(*b.fast, c, c.inputs[0].data, s.rows, s.N, s.K);
  auto want = run(*b.reference, c, c.inputs[0].data, s.rows, s.N, s.K);
  REQUIRE(got.is_ok());
  REQUIRE(want.is_ok());
  CHECK(max_abs(*want) > min_max_abs);
  std::size_t differing = 0;
  for (std::size_t i = 0; i < got->size(); ++i) differing += (*got)[i] != (*want)[i];
  CHECK(differing == 0);
}

TEST_CASE("fast int8-dynamic projection equals the reference bit for bit") {
  uint64_t seed = 9100;
  for (const Shape3& s : kShapes) {
    for (bool with_bias : {true, false}) {
      ++seed;
      INFO("seed " << seed << " rows " << s.rows << " N " << s.N << " K " << s.K << " bias "
                   << with_bias);
      const QCase c = linear_case("int8-dynamic", s.rows, s.N, s.K, seed, with_bias);
      check_int8_gemm_bit_identical(build(c), c, s, 0.1f);
    }
  }
}

// Static activation parameters whose calibrated range is narrower than the test data's [-2, 2], so
// codes clamp at both qmin and qmax: symmetric ±1.5, or affine (uint8) [-96·s, 159·s] ≈
// [-1.1, 1.9].
ActivationQuant static_activation(bool affine) {
  ActivationQuant a;
  a.scale = 1.5f / 127.0f;
  if (affine) {
    a.scale = 3.0f / 255.0f;
    a.zero_point = 96;
    a.qmin = 0;
    a.qmax = 255;
  }
  return a;
}

TEST_CASE("fast int8-static projection equals the reference bit for bit") {
  std::vector<Shape3> shapes(std::begin(kShapes), std::end(kShapes));
  shapes.insert(shapes.end(), {{1, 3, 1}, {13, 29, 5}, {1, 97, 61}, {11, 1, 1}});
  uint64_t seed = 9500;
  for (const Shape3& s : shapes) {
    for (bool affine : {false, true}) {
      for (bool with_bias : {true, false}) {
        ++seed;
        INFO("seed " << seed << " rows " << s.rows << " N " << s.N << " K " << s.K << " affine "
                     << affine << " bias " << with_bias);
        const QCase c = linear_case("int8-static", s.rows, s.N, s.K, seed, with_bias);
        check_int8_gemm_bit_identical(build(c, static_activation(affine)), c, s, 0.0f);
      }
    }
  }
}

// The vectorized fixed-parameter quantizer against the scalar definition, code for code: exact
// ties (s a power of two, so x / s is exact: round half to even decides), values far outside
// the range (clamped), and the row lengths around the 16-lane blocks.
TEST_CASE("quantize_row_fixed_checked gives quantize_row_fixed's codes") {
  const uint64_t seed = 9600;
  MESSAGE("seed " << seed);
  for (bool affine : {false, true}) {
    ActivationQuant a = static_activation(affine);
    a.scale = 1.0f / 64.0f;
    for (const int64_t K : {int64_t{1}, int64_t{15}, int64_t{16}, int64_t{17}, int64_t{100}}) {
      std::vector<float> x = random_floats(K, seed + K, -3.0f, 3.0f);
      for (int64_t k = 0; k < K; k += 3) x[k] = (std::nearbyint(x[k] * 64.0f) + 0.5f) / 64.0f;
      x[K / 2] = affine ? 1e30f : -1e30f;
      const int32_t offset = affine ? 128 : 0;
      std::vector<int8_t> want(K), got(K);
      ops::quantized::quantize_row_fixed(x.data(), K, a, offset, want.data());
      int64_t bad = -1;
      REQUIRE(ops::quantized::quantize_row_fixed_checked(x.data(), K, a, offset, got.data(), &bad));
      INFO("affine " << affine << " K " << K);
      CHECK(got == want);
    }
  }
}

// A row of denormals: max|x| / 127 underflows to 0 in float, and x / 0 would be ±inf or NaN
// (0 / 0), whose conversion to int8 is undefined. The scale must stay positive and the codes
// finite and equal in the scalar and the vectorized quantizer (lengths around the 16-lane block).
TEST_CASE("a row of denormals gets a positive scale and the same codes in every quantizer") {
  const float tiny = std::numeric_limits<float>::denorm_min();
  for (const int64_t K : {int64_t{3}, int64_t{16}, int64_t{37}}) {
    std::vector<float> x(static_cast<std::size_t>(K), 0.0f);
    x[0] = 7 * tiny;
    x[static_cast<std::size_t>(K - 1)] = -3 * tiny;
    std::vector<int8_t> scalar(static_cast<std::size_t>(K), -128), checked(scalar);
    const float s = ops::quantized::quantize_row_symmetric(x.data(), K, scalar.data());
    float s_checked = 0.0f;
    int64_t bad = -1;
    REQUIRE(ops::quantized::quantize_row_symmetric_checked(x.data(), K, checked.data(), &s_checked,
                                                           &bad));
    INFO("K " << K);
    CHECK(s == tiny);
    CHECK(s_checked == s);
    CHECK(checked == scalar);
    CHECK(scalar[0] == 7);
    CHECK(scalar[static_cast<std::size_t>(K - 1)] == -3);
    CHECK(scalar[1] == 0);
  }
}

TEST_CASE("int8-static rejects NaN and inf activations like the reference") {
  const uint64_t seed = 9700;
  MESSAGE("seed " << seed);
  const int64_t rows = 5, N = 9, K = 33;
  for (bool affine : {false, true}) {
    for (const float bad :
         {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
          -std::numeric_limits<float>::infinity()}) {
      QCase c = linear_case("int8-static", rows, N, K, seed);
      c.inputs[0].data[3 * K + 20] = bad;
      c.inputs[0].data[4 * K + 1] = bad;  // a later one is not the one named
      INFO("value " << bad << " affine " << affine);
      const Built b = build(c, static_activation(affine));
      auto got = run(*b.fast, c, c.inputs[0].data, rows, N, K);
      auto want = run(*b.reference, c, c.inputs[0].data, rows, N, K);
      REQUIRE_FALSE(got.is_ok());
      REQUIRE_FALSE(want.is_ok());
      const std::string msg = got.status().to_string();
      INFO(msg);
      CHECK(msg == want.status().to_string());
      CHECK(msg.find("int8-static input 'x' has") != std::string::npos);
      CHECK(msg.find("at row 3, column 20") != std::string::npos);
    }
  }
}

// Tolerance of the weight-only fast projections against their references, relative to the largest
// |y|: both accumulate the same float products in f32, in another order (16 lanes then a tree vs
// one sequential sum), which moves each sum by a few ulps·sqrt(K); fp16 / bf16 outputs are then
// rounded to the half type, where such a difference can flip one rounding: one half-ulp step
// (2^-11 relative for f16, 2^-8 for bf16).
constexpr double kWeightOnlyRelTol = 1e-5;
constexpr double kF16RelTol = 1.0 / 1024;
constexpr double kBf16RelTol = 1.0 / 128;

TEST_CASE("fast fp16 / bf16 / w8a16 projections agree with the references") {
  uint64_t seed = 9200;
  for (const char* precision : {"fp16", "bf16", "w8a16"}) {
    const std::string p = precision;
    const double tol = p == "fp16" ? kF16RelTol : p == "bf16" ? kBf16RelTol : kWeightOnlyRelTol;
    for (const Shape3& s : kShapes) {
      ++seed;
      INFO("seed " << seed << " " << p << " rows " << s.rows << " N " << s.N << " K " << s.K);
      const QCase c = linear_case(p, s.rows, s.N, s.K, seed);
      const Built b = build(c);
      auto got = run(*b.fast, c, c.inputs[0].data, s.rows, s.N, s.K);
      auto want = run(*b.reference, c, c.inputs[0].data, s.rows, s.N, s.K);
      REQUIRE(got.is_ok());
      REQUIRE(want.is_ok());
      const double scale = max_abs(*want);
      CHECK(scale > 0.1);
      CHECK(max_abs_diff(*got, *want) <= tol * scale);
    }
  }
}

// A short reduction (K < kMinQuantizedK) runs from f32 weights decoded in prepare: the result is
// x·Ŵᵀ + b with Ŵ the dequantized weight (no activation rounding), and close to the int8
// reference (which rounds x to int8 codes: an error of max|x|/254 per element, summed over K).
constexpr double kDecodedTol = 1e-5;  // same products in f32, another summation order
constexpr double kInt8ActivationTol = 0.05;

TEST_CASE("short reductions run from decoded f32 weights, visibly") {
  uint64_t seed = 9300;
  for (const char* precision : {"int8-dynamic", "w8a16"}) {
    for (const int64_t K : {int64_t{1}, int64_t{7}, int64_t{15}}) {
      ++seed;
      const int64_t rows = 5, N = 37;
      INFO("seed " << seed << " " << precision << " K " << K);
      const QCase c = linear_case(precision, rows, N, K, seed);
      const Built b = build(c);
      CHECK(b.fast->describe() ==
            "f32 weights decoded at prepare, K=" + std::to_string(K) + " < 16");
      auto got = run(*b.fast, c, c.inputs[0].data, rows, N, K);
      auto want = run(*b.reference, c, c.inputs[0].data, rows, N, K);
      REQUIRE(got.is_ok());
      REQUIRE(want.is_ok());
      // Independent: x·Ŵᵀ + b in double from the stored codes and scales.
      const ir::Value& w = c.inputs[1].value;
      const auto q = w.data->as<int8_t>();
      const auto& bias = c.inputs[2].value.data->as<float>();
      std::vector<float> exact(rows * N);
      for (int64_t m = 0; m < rows; ++m)
        for (int64_t n = 0; n < N; ++n) {
          double acc = bias[n];
          for (int64_t k = 0; k < K; ++k)
            acc += double{c.inputs[0].data[m * K + k]} *
                   double{w.quant->scales[n] * static_cast<float>(q[n * K + k])};
          exact[m * N + n] = static_cast<float>(acc);
        }
      CHECK(max_abs(exact) > 0.1f);
      CHECK(max_abs_diff(*got, exact) <= kDecodedTol);
      CHECK(max_abs_diff(*got, *want) <= kInt8ActivationTol);
    }
  }
  // At K = 16 the quantized kernel runs again.
  const Built b = build(linear_case("int8-dynamic", 2, 8, 16, ++seed));
  CHECK(b.fast->describe().find("int8 GEMM") != std::string::npos);
}

TEST_CASE("int8-dynamic rejects NaN and inf activations, naming node, input and row") {
  const uint64_t seed = 9400;
  MESSAGE("seed " << seed);
  const int64_t rows = 5, N = 9, K = 33;
  for (const float bad :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
        -std::numeric_limits<float>::infinity()}) {
    QCase c = linear_case("int8-dynamic", rows, N, K, seed);
    c.inputs[0].data[3 * K + 20] = bad;
    INFO("value " << bad);
    const Built b = build(c);
    for (const Projection* p : {b.fast.get(), b.reference.get()}) {
      auto got = run(*p, c, c.inputs[0].data, rows, N, K);
      REQUIRE_FALSE(got.is_ok());
      const std::string msg = got.status().to_string();
      INFO(msg);
      CHECK(msg.find("op_under_test") != std::string::npos);
      CHECK(msg.find("int8-dynamic input 'x' has") != std::string::npos);
      CHECK(msg.find("at row 3, column 20") != std::string::npos);
      CHECK(msg.find(std::isnan(bad) ? "NaN" : "inf") != std::string::npos);
    }
    // Through the kernel interface as well.
    auto kernel = run_quantized_op(c);
    REQUIRE_FALSE(kernel.is_ok());
    CHECK(kernel.status().to_string().find("at row 3") != std::string::npos);
  }
}

}  // namespace
}  // namespace qrt::testing
