// downcast, quantize_weights (w8a16) and quantize_dynamic on small models: dtype and quantization
// parameters of every weight checked against an independent computation, precision records,
// purity (the input graph is untouched) and sharing of the weights left in fp32.
#include <doctest/doctest.h>

#include <cmath>
#include <span>

#include "ir/half.h"
#include "ir/passes/passes.h"
#include "tests/passes/pass_fixtures.h"

namespace {

using namespace qrt;
using namespace qrt::ir;
using namespace qrt::ir::passes;
using namespace qrt::passes_test;

// Dequantizing a symmetric per-channel weight is off by at most half a step, s/2, per element;
// the slack covers the float rounding of s = max|w| / 127 and of w / s.
constexpr float kHalfStepSlack = 1.0001f;

Graph ok(Result<Graph> r) {
  INFO(r.status().to_string());
  REQUIRE(r.is_ok());
  REQUIRE(verify(*r).is_ok());
  return std::move(r).value();
}

// `q` is the int8 per-output-channel encoding of `original` (float [N, K]): one scale per row,
// s[n] = max_k |w[n, k]| / 127, and |w - s·q| <= s / 2 everywhere.
void check_int8_weight(const Value& q, const Value& original) {
  INFO("weight " << q.name);
  REQUIRE(q.dtype == DType::kI8);
  REQUIRE(q.quant.has_value());
  CHECK(q.quant->scheme == QuantScheme::kSymmetricPerChannel);
  CHECK(q.quant->axis == 0);
  CHECK(q.shape == original.shape);
  const int64_t n = original.shape[0], k = original.shape[1];
  REQUIRE(q.quant->scales.size() == static_cast<size_t>(n));
  const std::span<const float> w = original.data->as<float>();
  const std::span<const int8_t> codes = q.data->as<int8_t>();
  REQUIRE(codes.size() == w.size());
  int bad = 0, full_scale = 0;
  for (int64_t r = 0; r < n; ++r) {
    float absmax = 0.0f;
    for (int64_t c = 0; c < k; ++c) absmax = std::max(absmax, std::fabs(w[r * k + c]));
    const float s = q.quant->scales[static_cast<size_t>(r)];
    CHECK(s == doctest::Approx(absmax / 127.0f).epsilon(1e-6));
    for (int64_t c = 0; c < k; ++c) {
      const size_t i = static_cast<size_t>(r * k + c);
      if (std::fabs(w[i] - s * codes[i]) > 0.5f * s * kHalfStepSlack) ++bad;
      if (std::abs(codes[i]) == 127) ++full_scale;
    }
  }
  CHECK(bad == 0);
  CHECK(full_scale >= n);  // each row's largest element maps to ±127
}

void check_f16_weight(const Value& h, const Value& original, DType dtype) {
  INFO("weight " << h.name);
  REQUIRE(h.dtype == dtype);
  CHECK_FALSE(h.quant.has_value());
  const std::span<const float> w = original.data->as<float>();
  const std::span<const uint16_t> bits = h.data->as<uint16_t>();
  REQUIRE(bits.size() == w.size());
  int bad = 0;
  for (size_t i = 0; i < w.size(); ++i)
    if (bits[i] != (dtype == DType::kF16 ? float_to_f16_bits(w[i]) : float_to_bf16_bits(w[i])))
      ++bad;
  CHECK(bad == 0);
}

void check_record(const Graph& g, const std::string& name, const std::string& precision,
                  const std::string& reason, float threshold = 0.0f) {
  INFO("node " << name);
  const PrecisionRecord& r = node(g, name).precision;
  CHECK(r.precision == precision);
  CHECK(r.reason == reason);
  CHECK(r.outlier_threshold == threshold);
}

TEST_CASE("quantize_weights: int8 per-channel middle layers, fp16 first/last, pure") {
  const Graph g = mlp();
  const Snapshot before = snapshot(g);
  const Graph q = ok(quantize_weights(g));
  CHECK(snapshot(g) == before);
  CHECK(q.values.size() == g.values.size());  // converted in place, same names

  check_f16_weight(value(q, "fc1.weight"), value(g, "fc1.weight"), DType::kF16);
  check_int8_weight(value(q, "fc2.weight"), value(g, "fc2.weight"));
  check_int8_weight(value(q, "fc3.weight"), value(g, "fc3.weight"));
  check_f16_weight(value(q, "head.weight"), value(g, "head.weight"), DType::kF16);
  check_record(q, "fc1", "fp16", "kept fp16: first weighted layer");
  check_record(q, "fc2", "w8a16", "quantized: w8a16");
  check_record(q, "fc3", "w8a16", "quantized: w8a16");
  check_record(q, "head", "fp16", "kept fp16: last weighted layer");
  // Biases stay f32 and are shared with the input graph (same bytes, not copies).
  for (const char* b : {"fc1.bias", "fc2.bias", "head.bias"}) {
    CHECK(value(q, b).dtype == DType::kF32);
    CHECK(value(q, b).data->data() == value(g, b).data->data());
  }
  CHECK(node(q, "fc1.relu").precision == node(g, "fc1.relu").precision);
}

TEST_CASE("fp32 layers share their weights with the input graph") {
  const Graph g = mlp();
  PrecisionPolicy policy;
  policy.keep_precision = Precision::kFP32;
  policy.min_in_features = 40;  // fc3 (K = 32) stays fp32
  const Graph q = ok(quantize_weights(g, policy));
  for (const char* w : {"fc1.weight", "fc3.weight", "head.weight"}) {
    INFO(w);
    CHECK(value(q, w).dtype == DType::kF32);
    CHECK(value(q, w).data->data() == value(g, w).data->data());
  }
  check_record(q, "fc1", "fp32", "kept fp32: first weighted layer");
  check_record(q, "fc3", "fp32", "kept fp32: in_features 32 < min_in_features 40");
  check_int8_weight(value(q, "fc2.weight"), value(g, "fc2.weight"));
  CHECK(q.weight_bytes() < g.weight_bytes());
}

TEST_CASE("downcast: fp16 and bf16, kept layers in keep_precision") {
  const Graph g = mlp();
  PrecisionPolicy none;
  none.keep_first = none.keep_last = false;
  const Graph h = ok(downcast(g, Precision::kFP16, none));
  for (const char* l : {"fc1", "fc2", "fc3", "head"}) {
    const std::string w = std::string(l) + ".weight";
    check_f16_weight(value(h, w), value(g, w), DType::kF16);
    check_record(h, l, "fp16", "downcast: fp16");
  }
  const Graph bf = ok(downcast(g, Precision::kBF16));
  check_f16_weight(value(bf, "fc1.weight"), value(g, "fc1.weight"), DType::kF16);
  check_f16_weight(value(bf, "fc2.weight"), value(g, "fc2.weight"), DType::kBF16);
  check_record(bf, "fc2", "bf16", "downcast: bf16");
  check_record(bf, "head", "fp16", "kept fp16: last weighted layer");
  CHECK(bf.weight_bytes() < g.weight_bytes());

  const Result<Graph> bad = downcast(g, Precision::kW8A16);
  REQUIRE_FALSE(bad.is_ok());
  CHECK(bad.status().message().find("'w8a16' is not fp16 or bf16") != std::string::npos);
}

TEST_CASE("quantize_dynamic: outlier threshold on quantized nodes, options validated") {
  const Graph g = mlp();
  const Graph q = ok(quantize_dynamic(g));
  check_record(q, "fc2", "int8-dynamic", "quantized: int8-dynamic", 6.0f);
  check_record(q, "fc3", "int8-dynamic", "quantized: int8-dynamic", 6.0f);
  check_record(q, "fc1", "fp16", "kept fp16: first weighted layer", 0.0f);
  check_int8_weight(value(q, "fc2.weight"), value(g, "fc2.weight"));

  DynamicOptions off;
  off.outlier_threshold = 0.0f;
  CHECK(node(ok(quantize_dynamic(g, off)), "fc2").precision.outlier_threshold == 0.0f);
  DynamicOptions bad;
  bad.outlier_threshold = -1.0f;
  const Result<Graph> r = quantize_dynamic(g, bad);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("outlier_threshold") != std::string::npos);
  PrecisionPolicy odd;
  odd.keep_precision = Precision::kNF4;
  const Result<Graph> r2 = quantize_weights(g, odd);
  REQUIRE_FALSE(r2.is_ok());
  CHECK(r2.status().message().find("keep_precision 'nf4'") != std::string::npos);
}

TEST_CASE("quantize_dynamic on an LSTM: every w_ih / w_hh of every layer, per gate row") {
  const Graph g = lstm_model();
  const Snapshot before = snapshot(g);
  PrecisionPolicy policy;
  policy.keep_first = false;
  const Graph q = ok(quantize_dynamic(g, {policy, 6.0f}));
  CHECK(snapshot(g) == before);
  for (const char* w : {"lstm.l0.w_ih", "lstm.l0.w_hh", "lstm.l1.w_ih", "lstm.l1.w_hh"})
    check_int8_weight(value(q, w), value(g, w));  // 4H = 128 scales: one per gate row
  for (const char* b : {"lstm.l0.b_ih", "lstm.l0.b_hh", "lstm.l1.b_ih", "lstm.l1.b_hh"}) {
    CHECK(value(q, b).dtype == DType::kF32);
    CHECK(value(q, b).data->data() == value(g, b).data->data());
  }
  check_record(q, "lstm", "int8-dynamic", "quantized: int8-dynamic", 6.0f);
  check_record(q, "head", "fp16", "kept fp16: last weighted layer");
}

TEST_CASE("a weight tied between a kept and a quantized layer gets one value per encoding") {
  frontends::GraphBuilder b;
  const ValueId x = b.input("x", {ir::kDynamicDim, 16});
  const ValueId w = random_constant(b, "shared.weight", {16, 16}, kSeed);
  const ValueId a = b.linear("enc", x, w);
  const ValueId y = b.linear("dec", b.unary("act", OpKind::kTanh, a), w);
  const ValueId z = b.linear("out", y, w);
  b.output(z, "y");
  const Graph g = built(b);
  PrecisionPolicy policy;
  policy.keep_first = false;
  policy.keep_last = false;
  policy.keep_patterns = {"dec"};
  const Graph q = ok(quantize_weights(g, policy));
  const Value& in_place = value(q, "shared.weight");
  CHECK(in_place.dtype == DType::kF16);  // encodings go in a fixed order, f16 before i8
  const Value& extra = value(q, "shared.weight.i8");
  check_int8_weight(extra, value(g, "shared.weight"));
  CHECK(&input_of(q, "enc", 1) == &extra);
  CHECK(&input_of(q, "out", 1) == &extra);
  CHECK(&input_of(q, "dec", 1) == &in_place);
  CHECK(q.values.size() == g.values.size() + 1);

  // An fp32 user keeps the original f32 weight as it was.
  policy.keep_precision = Precision::kFP32;
  const Graph q32 = ok(quantize_weights(g, policy));
  CHECK(value(q32, "shared.weight").data->data() == value(g, "shared.weight").data->data());
  CHECK(&input_of(q32, "dec", 1) == &value(q32, "shared.weight"));
  CHECK(&input_of(q32, "enc", 1) == &value(q32, "shared.weight.i8"));
}

}  // namespace

namespace {

TEST_CASE("converting an already converted graph leaves the converted layers as they are") {
  using namespace qrt::ir;
  using namespace qrt::passes_test;
  const Graph g = mlp();
  PrecisionPolicy none;
  none.keep_first = none.keep_last = false;
  none.keep_patterns = {"fc3"};  // fc3 stays fp32 in the first pass, so the second converts it
  none.keep_precision = Precision::kFP32;
  const Graph h = ok(downcast(g, Precision::kFP16, none));
  const Graph q = ok(quantize_dynamic(h, {none, 6.0f}));
  check_record(q, "fc2", "fp16", "unchanged: weight 'fc2.weight' is already f16, not f32");
  CHECK(value(q, "fc2.weight").data->data() == value(h, "fc2.weight").data->data());
  CHECK(node(q, "fc3").precision.precision == "fp32");  // still kept by the pattern
  none.keep_patterns.clear();
  const Graph q2 = ok(quantize_dynamic(h, {none, 6.0f}));
  check_record(q2, "fc3", "int8-dynamic", "quantized: int8-dynamic", 6.0f);
  check_int8_weight(value(q2, "fc3.weight"), value(g, "fc3.weight"));
}

}  // namespace
