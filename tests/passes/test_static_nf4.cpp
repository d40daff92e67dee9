// quantize_static (activation parameters from a calibration table), quantize_nf4, their errors,
// and the serialize round trip of quantized graphs.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>

#include "ir/passes/passes.h"
#include "ir/quant_formats.h"
#include "ir/quantize.h"
#include "ir/serialize.h"
#include "tests/passes/pass_fixtures.h"

namespace {

using namespace qrt;
using namespace qrt::ir;
using namespace qrt::ir::passes;
using namespace qrt::passes_test;

Graph ok(Result<Graph> r) {
  INFO(r.status().to_string());
  REQUIRE(r.is_ok());
  REQUIRE(verify(*r).is_ok());
  return std::move(r).value();
}

void check_error(const Result<Graph>& r, const std::vector<std::string>& fragments) {
  REQUIRE_FALSE(r.is_ok());
  INFO("message: " << r.status().message());
  for (const std::string& f : fragments) CHECK(r.status().message().find(f) != std::string::npos);
}

// The mlp's int8-static nodes are fc2 and fc3; their inputs are the relu outputs before them.
CalibrationTable mlp_table() {
  CalibrationTable t;
  t.method = "minmax";
  t.ranges["fc1.relu"] = {0.0f, 3.0f};
  t.ranges["fc2.relu"] = {-1.0f, 3.0f};  // a relu cannot give this; the pass does not care
  t.ranges["x"] = {-5.0f, 5.0f};
  return t;
}

TEST_CASE("quantize_static symmetric: s = max(|min|, |max|) / 127 on each quantized input") {
  const Graph g = mlp();
  const Snapshot before = snapshot(g);
  const Graph q = ok(quantize_static(g, mlp_table()));
  CHECK(snapshot(g) == before);
  CHECK(node(q, "fc2").precision.precision == "int8-static");
  // fc2 -> relu -> fc3 are both int8-static: fc2 writes int8 codes for fc3 (a static chain).
  CHECK(node(q, "fc2").precision.reason ==
        "quantized: int8-static; output requantized to i8 for 'fc3'");
  CHECK(node(q, "fc1").precision.precision == "fp16");
  CHECK(value(q, "fc2.weight").dtype == DType::kI8);

  const Value& a = input_of(q, "fc2", 0);
  CHECK(a.name == "fc1.relu");
  REQUIRE(a.quant.has_value());
  CHECK(a.dtype == DType::kF32);
  CHECK(a.quant->scheme == QuantScheme::kSymmetricPerTensor);
  REQUIRE(a.quant->scales.size() == 1);
  CHECK(a.quant->scales[0] == doctest::Approx(3.0f / 127.0f));
  const Value& b = input_of(q, "fc3", 0);
  REQUIRE(b.quant.has_value());
  CHECK(b.quant->scales[0] == doctest::Approx(3.0f / 127.0f));
  // Inputs of kept layers (x feeds fc1, kept fp16) carry no parameters.
  CHECK_FALSE(value(q, "x").quant.has_value());
  CHECK_FALSE(value(q, "fc3.relu").quant.has_value());
}

TEST_CASE("quantize_static affine: uint8 range widened to include 0") {
  const Graph g = mlp();
  const Graph q = ok(quantize_static(g, mlp_table(), {{}, /*symmetric=*/false}));
  // [0, 3]: s = 3 / 255, z = 0.
  const QuantParams& a = *input_of(q, "fc2", 0).quant;
  CHECK(a.scheme == QuantScheme::kAffinePerTensor);
  CHECK(a.scales[0] == doctest::Approx(3.0f / 255.0f));
  CHECK(a.zero_points == std::vector<int32_t>{0});
  // [-1, 3]: s = 4 / 255, z = round(0 - (-1) / s) = round(63.75) = 64.
  const QuantParams& b = *input_of(q, "fc3", 0).quant;
  CHECK(b.scales[0] == doctest::Approx(4.0f / 255.0f));
  CHECK(b.zero_points == std::vector<int32_t>{64});

  // A range entirely above zero is widened: [0.5, 2] -> [0, 2].
  CalibrationTable t = mlp_table();
  t.ranges["fc1.relu"] = {0.5f, 2.0f};
  const Graph widened = ok(quantize_static(g, t, {{}, false}));
  const QuantParams& c = *input_of(widened, "fc2", 0).quant;
  CHECK(c.scales[0] == doctest::Approx(2.0f / 255.0f));
  CHECK(c.zero_points == std::vector<int32_t>{0});
}

TEST_CASE("quantize_static: a missing range is an error naming the value; bad ranges too") {
  const Graph g = mlp();
  CalibrationTable t = mlp_table();
  t.ranges.erase("fc2.relu");
  check_error(quantize_static(g, t), {"node 'fc3'", "'fc2.relu'", "no range"});
  t = mlp_table();
  t.ranges["fc1.relu"] = {2.0f, 1.0f};
  check_error(quantize_static(g, t), {"'fc1.relu'", "min must not exceed max"});
  t.ranges["fc1.relu"] = {0.0f, std::nanf("")};
  check_error(quantize_static(g, t), {"'fc1.relu'"});
}

TEST_CASE("quantize_static: one value feeding two quantized nodes gets one set of params") {
  frontends::GraphBuilder b;
  const ValueId x = b.input("x", {ir::kDynamicDim, 32});
  const ValueId a = b.linear("a", x, random_constant(b, "a.w", {8, 32}, kSeed));
  const ValueId c = b.linear("c", x, random_constant(b, "c.w", {8, 32}, kSeed + 1));
  b.output(b.binary("sum", OpKind::kAdd, a, c), "y");
  const Graph g = built(b);
  PrecisionPolicy policy;
  policy.keep_first = policy.keep_last = false;
  CalibrationTable t;
  t.ranges["x"] = {-2.0f, 0.5f};
  const Graph q = ok(quantize_static(g, t, {policy, true}));
  CHECK(&input_of(q, "a", 0) == &input_of(q, "c", 0));
  REQUIRE(value(q, "x").quant.has_value());
  CHECK(value(q, "x").quant->scales[0] == doctest::Approx(2.0f / 127.0f));
  CHECK(node(q, "a").precision.precision == "int8-static");
  CHECK(node(q, "c").precision.precision == "int8-static");
}

TEST_CASE("quantize_static on an LSTM annotates x of the LSTM") {
  const Graph g = lstm_model();
  PrecisionPolicy policy;
  policy.keep_first = false;
  CalibrationTable t;
  t.ranges["x"] = {-4.0f, 2.0f};
  const Graph q = ok(quantize_static(g, t, {policy, true}));
  CHECK(node(q, "lstm").precision.precision == "int8-static");
  CHECK(value(q, "x").quant->scales[0] == doctest::Approx(4.0f / 127.0f));
  CHECK(value(q, "lstm.l1.w_hh").dtype == DType::kI8);
}

// NF4 rounds w / absmax to the nearest of 16 levels: the error is at most half the widest gap
// between neighbouring codes (-1 to -0.696), times the block absmax. Double quantization stores the
// absmax itself approximately; that error adds at most |stored - true absmax| (codes are <= 1).
float nf4_half_gap() {
  float widest = 0.0f;
  for (int i = 0; i + 1 < 16; ++i) widest = std::max(widest, kNF4Codebook[i + 1] - kNF4Codebook[i]);
  return 0.5f * widest;
}

void check_nf4_weight(const Value& q, const Value& original, int64_t block, bool double_quant) {
  INFO("weight " << q.name);
  REQUIRE(q.dtype == DType::kNF4);
  REQUIRE(q.quant.has_value());
  CHECK(q.quant->scheme == QuantScheme::kNF4Block);
  CHECK(q.quant->block_size == block);
  CHECK(q.quant->double_quant == double_quant);
  CHECK(q.shape == original.shape);
  const std::span<const float> w = original.data->as<float>();
  CHECK(q.data->size() == w.size() / 2);
  Result<std::vector<float>> back = dequantize_nf4(q.data->as<uint8_t>(), q.shape, *q.quant);
  REQUIRE(back.is_ok());
  const std::vector<float> absmax = nf4_block_absmax(*q.quant);
  REQUIRE(absmax.size() == w.size() / static_cast<size_t>(block));
  const float half_gap = nf4_half_gap();
  CHECK(half_gap == doctest::Approx(0.5 * (1.0 - 0.6961928009986877)));
  int bad = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    float true_absmax = 0.0f;
    const size_t start = i / static_cast<size_t>(block) * static_cast<size_t>(block);
    for (size_t j = start; j < start + static_cast<size_t>(block); ++j)
      true_absmax = std::max(true_absmax, std::fabs(w[j]));
    const float stored = absmax[i / static_cast<size_t>(block)];
    // Error of the code choice plus the error of the stored absmax times |code| <= 1.
    const float bound = half_gap * stored + std::fabs(stored - true_absmax) + 1e-6f;
    if (std::fabs((*back)[i] - w[i]) > bound) ++bad;
    if (!double_quant && stored != true_absmax) ++bad;
  }
  CHECK(bad == 0);
}

TEST_CASE("quantize_nf4: blocks along K, double quant, kept layers, pure") {
  const Graph g = mlp();
  const Snapshot before = snapshot(g);
  // Default options (block 64, double quant); fc1 (K = 7) and fc3 (K = 32) are kept, so their K
  // need not be a multiple of the block.
  Nf4Options options;
  options.policy.keep_patterns = {"fc3"};
  const Graph q = ok(quantize_nf4(g, options));
  CHECK(snapshot(g) == before);
  check_nf4_weight(value(q, "fc2.weight"), value(g, "fc2.weight"), 64, true);
  CHECK(value(q, "fc1.weight").dtype == DType::kF16);
  CHECK(value(q, "fc3.weight").dtype == DType::kF16);
  CHECK(node(q, "fc3").precision.reason == "kept fp16: matches pattern 'fc3'");
  CHECK(node(q, "fc2").precision.precision == "nf4");
  CHECK(node(q, "fc2").precision.reason == "quantized: nf4");

  PrecisionPolicy policy;
  policy.keep_first = false;
  const Graph l = ok(quantize_nf4(lstm_model(), {policy, 32, false}));
  const Graph lg = lstm_model();
  for (const char* w : {"lstm.l0.w_ih", "lstm.l0.w_hh", "lstm.l1.w_ih", "lstm.l1.w_hh"})
    check_nf4_weight(value(l, w), value(lg, w), 32, false);
  CHECK(value(l, "lstm.l0.b_ih").dtype == DType::kF32);
}

TEST_CASE("quantize_nf4 errors: invalid block size, block size not dividing K") {
  const Graph g = mlp();
  check_error(quantize_nf4(g, {{}, 48, true}), {"block size 48", "power of two"});
  check_error(quantize_nf4(g, {{}, 8192, true}), {"block size 8192"});
  // A block of 128 divides no K of fc2 (64), fc3 (32) or head (64): the first one is named.
  Nf4Options options;
  options.policy.keep_last = false;
  options.block_size = 128;
  check_error(quantize_nf4(g, options),
              {"node 'fc2' (Linear)", "'fc2.weight'", "does not divide K = 64"});
  options.policy.keep_first = false;
  options.block_size = 32;
  check_error(quantize_nf4(g, options), {"node 'fc1'", "does not divide K = 7"});
}

// Serializes, then loads from a 64-byte aligned copy of the bytes.
Graph round_trip(const Graph& g) {
  Result<std::vector<std::byte>> bytes = serialize_model(g);
  INFO(bytes.status().to_string());
  REQUIRE(bytes.is_ok());
  const size_t size = bytes->size();
  const size_t padded = (size + 63) / 64 * 64;
  std::shared_ptr<void> buffer(std::aligned_alloc(64, padded), std::free);
  REQUIRE(buffer != nullptr);
  std::memcpy(buffer.get(), bytes->data(), size);
  Result<Graph> loaded = load_model_from_memory(buffer.get(), size, buffer);
  INFO(loaded.status().to_string());
  REQUIRE(loaded.is_ok());
  return std::move(loaded).value();
}

void check_same_quantization(const Graph& a, const Graph& b) {
  REQUIRE(a.nodes.size() == b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    INFO("node " << a.nodes[i].name);
    CHECK(b.nodes[i].precision == a.nodes[i].precision);
  }
  for (const Value& v : a.values) {
    INFO("value " << v.name);
    const Value& w = value(b, v.name);
    CHECK(w.dtype == v.dtype);
    CHECK(w.quant == v.quant);
    if (v.data) CHECK(*w.data == *v.data);
  }
}

TEST_CASE("serialize round trip keeps precision records, weights and quantization params") {
  const Graph g = mlp();
  const Graph dynamic = ok(quantize_dynamic(g, {{}, 3.5f}));
  check_same_quantization(dynamic, round_trip(dynamic));
  const Graph affine = ok(quantize_static(g, mlp_table(), {{}, false}));
  check_same_quantization(affine, round_trip(affine));
  const Graph nf4 = ok(quantize_nf4(g, {{}, 32, true}));
  check_same_quantization(nf4, round_trip(nf4));
  CHECK(node(round_trip(dynamic), "fc2").precision.outlier_threshold == 3.5f);
  CHECK(input_of(round_trip(affine), "fc3", 0).quant->zero_points == std::vector<int32_t>{64});
}

}  // namespace
