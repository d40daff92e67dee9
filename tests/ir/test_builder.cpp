// GraphBuilder: a forecaster-like graph with its inferred shapes, and error reporting.
#include <doctest/doctest.h>

#include <numeric>

#include "ir/quant_formats.h"
#include "tests/ir/graph_fixtures.h"
#include "tests/ir/infer_test_util.h"

using namespace qrt;
using namespace qrt::ir;
using namespace qrt::ir::testing;
using frontends::GraphBuilder;

namespace {

const Value& value_named(const Graph& g, const std::string& name) {
  const ValueId id = g.find_value(name);
  INFO("value " << name);
  REQUIRE(id != kNoValue);
  return g.values[static_cast<size_t>(id)];
}

}  // namespace

TEST_CASE("forecaster: LSTM -> last step -> LayerNorm -> Linear -> Gelu -> Linear -> Reshape") {
  // Batch dynamic, 96 input steps of 7 channels, 2 LSTM layers of 16, a 24-step horizon of 7.
  constexpr int64_t kT = 96, kC = 7, kH = 16, kHidden = 32, kHorizon = 24;
  GraphBuilder b;
  const ValueId x = b.input("x", {kDynamicDim, kT, kC});
  std::vector<GraphBuilder::LstmLayer> layers;
  size_t floats = 0;
  auto weight = [&](const std::string& name, Shape shape) {
    const auto n = static_cast<size_t>(numel(shape));
    floats += n;
    return b.constant(name, std::move(shape), ramp(n, 0.01f * static_cast<float>(floats)));
  };
  for (int64_t l = 0; l < 2; ++l) {
    const std::string p = "lstm.l" + std::to_string(l) + ".";
    layers.push_back({weight(p + "w_ih", {4 * kH, l == 0 ? kC : kH}),
                      weight(p + "w_hh", {4 * kH, kH}), weight(p + "b_ih", {4 * kH}),
                      weight(p + "b_hh", {4 * kH})});
  }
  const auto rnn = b.lstm("lstm", x, kH, layers);
  const ValueId last = b.slice("last", rnn.y, 1, -1, INT64_MAX, 1, /*squeeze=*/true);
  const ValueId norm =
      b.layer_norm("norm", last, weight("norm.gamma", {kH}), weight("norm.beta", {kH}));
  const ValueId fc1 =
      b.linear("fc1", norm, weight("fc1.w", {kHidden, kH}), weight("fc1.b", {kHidden}));
  const ValueId act = b.gelu("act", fc1, /*tanh_approximation=*/true);
  const ValueId fc2 = b.linear("fc2", act, weight("fc2.w", {kHorizon * kC, kHidden}));
  const ValueId out = b.reshape("to_horizon", fc2, {0, kHorizon, kC});
  b.output(out, "forecast");
  b.output(rnn.h_n);
  b.set_metadata("producer", "test_builder");

  Result<Graph> built = b.build();
  INFO(built.status().to_string());
  REQUIRE(built.is_ok());
  const Graph& g = *built;
  CHECK(verify(g).is_ok());
  CHECK(g.nodes.size() == 7);
  CHECK(g.metadata.at("producer") == "test_builder");
  CHECK(g.weight_bytes() == floats * sizeof(float));

  constexpr int64_t Q = kDynamicDim;
  CHECK(value_named(g, "lstm").shape == Shape{Q, kT, kH});
  CHECK(value_named(g, "lstm.h_n").shape == Shape{2, Q, kH});
  CHECK(value_named(g, "lstm.c_n").shape == Shape{2, Q, kH});
  CHECK(value_named(g, "last").shape == Shape{Q, kH});
  CHECK(value_named(g, "norm").shape == Shape{Q, kH});
  CHECK(value_named(g, "fc1").shape == Shape{Q, kHidden});
  CHECK(value_named(g, "act").shape == Shape{Q, kHidden});
  CHECK(value_named(g, "fc2").shape == Shape{Q, kHorizon * kC});
  CHECK(value_named(g, "forecast").shape == Shape{Q, kHorizon, kC});
  CHECK(g.find_value("to_horizon") == kNoValue);  // renamed by output()
  CHECK(g.outputs == std::vector<ValueId>{out, rnn.h_n});
  CHECK(g.nodes[0].inputs.size() == 3 + 4 * 2);
  CHECK(g.nodes[0].inputs[1] == kNoValue);  // no h0

  // A concrete batch of 5 gives concrete shapes everywhere.
  auto t = infer_shapes(g, {{5, kT, kC}});
  REQUIRE(t.is_ok());
  CHECK(t->at(static_cast<size_t>(out)).shape == Shape{5, kHorizon, kC});
  CHECK(t->at(static_cast<size_t>(rnn.c_n)).shape == Shape{2, 5, kH});
}

TEST_CASE("every builder op, f16 activations and quantized weights") {
  GraphBuilder b;
  const ValueId x = b.input("x", {3, 64}, DType::kF16);
  QuantParams q;
  q.scheme = QuantScheme::kSymmetricPerTensor;
  q.scales = {0.02f};
  std::vector<int8_t> w8(5 * 64);
  std::iota(w8.begin(), w8.end(), int8_t{-100});
  const ValueId w_i8 = b.constant_raw("w_i8", DType::kI8, {5, 64},
                                      ConstantData::copy_of(w8.data(), w8.size()).value(), q);
  QuantParams qn;
  qn.scheme = QuantScheme::kNF4Block;
  qn.block_size = kNF4DefaultBlock;
  qn.scales.assign(2 * 64 / kNF4DefaultBlock, 1.5f);
  std::vector<uint8_t> w4(2 * 64 / 2, 0x7c);
  const ValueId w_nf4 = b.constant_raw(
      "w_nf4", DType::kNF4, {2, 64},
      ConstantData::borrow(reinterpret_cast<const std::byte*>(w4.data()), w4.size(), nullptr), qn);
  const ValueId a = b.linear("a", x, w_i8);       // [3, 5]
  const ValueId n = b.linear("n", x, w_nf4);      // [3, 2]
  const ValueId c = b.concat("c", {a, n, a}, 1);  // [3, 12]
  const ValueId s = b.binary("s", OpKind::kMul, c, b.unary("t", OpKind::kTanh, c));
  const ValueId r = b.leaky_relu("r", b.binary("d", OpKind::kSub, s, c), 0.1f);
  const ValueId p = b.transpose("p", b.unary("sg", OpKind::kSigmoid, r), {1, 0});  // [12, 3]
  const ValueId h = b.slice("h", p, 0, 1, 12, 2);  // rows 1, 3, ..., 11: [6, 3]
  const ValueId y =
      b.binary("y", OpKind::kAdd, b.unary("si", OpKind::kSilu, h), b.unary("re", OpKind::kRelu, h));
  b.output(y);
  Result<Graph> g = b.build();
  INFO(g.status().to_string());
  REQUIRE(g.is_ok());
  for (const char* name : {"a", "n", "c", "s", "r", "p", "h", "y"})
    CHECK(value_named(*g, name).dtype == DType::kF16);
  CHECK(value_named(*g, "a").shape == Shape{3, 5});
  CHECK(value_named(*g, "n").shape == Shape{3, 2});
  CHECK(value_named(*g, "c").shape == Shape{3, 12});
  CHECK(value_named(*g, "p").shape == Shape{12, 3});
  CHECK(value_named(*g, "y").shape == Shape{6, 3});
}

TEST_CASE("builder errors are reported by build(), the first one named") {
  SUBCASE("duplicate value name") {
    GraphBuilder b;
    const ValueId x = b.input("x", {2});
    b.output(b.unary("x", OpKind::kRelu, x));  // node name is free, value name "x" is not
    auto g = b.build();
    REQUIRE_FALSE(g.is_ok());
    CHECK(g.status().message().find("value name 'x' is already used") != std::string::npos);
  }
  SUBCASE("duplicate node name") {
    GraphBuilder b;
    const ValueId x = b.input("x", {2});
    const ValueId r = b.unary("r", OpKind::kRelu, x);
    b.output(r, "out");
    b.unary("r", OpKind::kTanh, x);
    CHECK(b.build().status().message().find("node name 'r' is already used") != std::string::npos);
  }
  SUBCASE("bad value id, first error wins") {
    GraphBuilder b;
    const ValueId x = b.input("x", {2, 3});
    b.linear("fc", x, 77);
    b.unary("bad", OpKind::kAdd, x);
    auto g = b.build();
    INFO(g.status().message());
    CHECK(g.status().message().find("node 'fc' (Linear): weight is value id 77") !=
          std::string::npos);
  }
  SUBCASE("constant size mismatch") {
    GraphBuilder b;
    const std::vector<float> data = ramp(5);
    b.constant("w", {2, 3}, data);
    CHECK(b.build().status().message().find("constant 'w': 5 floats given for shape [2, 3]") !=
          std::string::npos);
  }
  SUBCASE("wrong op for unary/binary") {
    GraphBuilder b;
    const ValueId x = b.input("x", {2});
    b.binary("m", OpKind::kRelu, x, x);
    CHECK(b.build().status().message().find("binary() takes Add, Sub or Mul, not Relu") !=
          std::string::npos);
  }
  SUBCASE("output rename collision") {
    GraphBuilder b;
    const ValueId x = b.input("x", {2});
    b.output(b.unary("r", OpKind::kRelu, x), "x");
    CHECK(b.build().status().message().find("cannot rename output 'r' to 'x'") !=
          std::string::npos);
  }
  SUBCASE("inference errors name the node") {
    GraphBuilder b;
    const ValueId x = b.input("x", {kDynamicDim, 10});
    b.output(b.slice("pick", x, 1, 3, 5, 1, true));
    auto g = b.build();
    INFO(g.status().message());
    CHECK(g.status().message().rfind("node 'pick' (Slice): squeeze of slice [3:5:1]", 0) == 0);
  }
  SUBCASE("LSTM without layers") {
    GraphBuilder b;
    const ValueId x = b.input("x", {1, 2, 3});
    b.output(b.lstm("rnn", x, 4, {}).y);
    CHECK(b.build().status().message().find("node 'rnn' (LSTM)") != std::string::npos);
  }
  SUBCASE("build() can be called again") {
    GraphBuilder b;
    const ValueId x = b.input("x", {2});
    b.output(b.unary("r", OpKind::kRelu, x));
    auto first = b.build();
    auto second = b.build();
    REQUIRE(first.is_ok());
    REQUIRE(second.is_ok());
    CHECK(first->values.size() == second->values.size());
  }
}
