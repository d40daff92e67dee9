// Small models the pass tests convert, built with GraphBuilder from seeded random weights, plus
// helpers that look values up by name (tests/passes only).
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "frontends/builder.h"
#include "ir/graph.h"
#include "tests/support/random.h"

namespace qrt::passes_test {

inline constexpr uint64_t kSeed = 20261123;

inline ir::Graph built(frontends::GraphBuilder& b) {
  Result<ir::Graph> g = b.build();
  INFO(g.status().to_string());
  REQUIRE(g.is_ok());
  return std::move(g).value();
}

inline ir::ValueId random_constant(frontends::GraphBuilder& b, const std::string& name,
                                   ir::Shape shape, uint64_t seed) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return b.constant(name, std::move(shape),
                    testing::random_normal(static_cast<size_t>(n), seed, 0.5f));
}

// x [?, 7] -> fc1 [64, 7] -> relu -> fc2 [32, 64] -> relu -> fc3 [64, 32] -> relu -> head [3, 64].
// Four weighted layers: with the default policy fc1 and head are kept, fc2 and fc3 converted.
// Every K of fc2 / fc3 / head is a multiple of 32 (NF4 blocks); fc1's K = 7 (a prime) is not.
inline ir::Graph mlp(uint64_t seed = kSeed) {
  MESSAGE("mlp weights seed " << seed);
  frontends::GraphBuilder b;
  ir::ValueId h = b.input("x", {ir::kDynamicDim, 7});
  const struct {
    const char* name;
    int64_t n, k;
  } layers[] = {{"fc1", 64, 7}, {"fc2", 32, 64}, {"fc3", 64, 32}, {"head", 3, 64}};
  uint64_t s = seed;
  for (const auto& l : layers) {
    const std::string name = l.name;
    const ir::ValueId w = random_constant(b, name + ".weight", {l.n, l.k}, ++s);
    const ir::ValueId bias = random_constant(b, name + ".bias", {l.n}, ++s);
    h = b.linear(name, h, w, bias);
    if (name != "head") h = b.unary(name + ".relu", ir::OpKind::kRelu, h);
  }
  b.output(h, "y");
  return built(b);
}

// x [?, 5, 32] -> lstm (H = 32, 2 layers, biases) -> slice last step -> head [1, 32].
inline ir::Graph lstm_model(uint64_t seed = kSeed) {
  MESSAGE("lstm weights seed " << seed);
  constexpr int64_t kHidden = 32;
  frontends::GraphBuilder b;
  const ir::ValueId x = b.input("x", {ir::kDynamicDim, 5, 32});
  std::vector<frontends::GraphBuilder::LstmLayer> layers;
  uint64_t s = seed;
  for (int l = 0; l < 2; ++l) {
    const std::string p = "lstm.l" + std::to_string(l) + ".";
    layers.push_back({random_constant(b, p + "w_ih", {4 * kHidden, 32}, ++s),
                      random_constant(b, p + "w_hh", {4 * kHidden, kHidden}, ++s),
                      random_constant(b, p + "b_ih", {4 * kHidden}, ++s),
                      random_constant(b, p + "b_hh", {4 * kHidden}, ++s)});
  }
  const auto out = b.lstm("lstm", x, kHidden, layers);
  const ir::ValueId last = b.slice("last", out.y, 1, 4, 5, 1, /*squeeze=*/true);
  const ir::ValueId w = random_constant(b, "head.weight", {1, kHidden}, ++s);
  b.output(b.linear("head", last, w), "y");
  return built(b);
}

inline const ir::Value& value(const ir::Graph& g, const std::string& name) {
  const ir::ValueId id = g.find_value(name);
  REQUIRE_MESSAGE(id != ir::kNoValue, "no value named " << name);
  return g.values[static_cast<size_t>(id)];
}

inline const ir::Node& node(const ir::Graph& g, const std::string& name) {
  const int i = g.find_node(name);
  REQUIRE_MESSAGE(i >= 0, "no node named " << name);
  return g.nodes[static_cast<size_t>(i)];
}

// The value feeding input `slot` of node `name`.
inline const ir::Value& input_of(const ir::Graph& g, const std::string& name, size_t slot) {
  const ir::Node& n = node(g, name);
  REQUIRE(slot < n.inputs.size());
  return g.values[static_cast<size_t>(n.inputs[slot])];
}

// What a test needs to see that the input graph was left untouched.
struct Snapshot {
  std::vector<ir::DType> dtypes;
  std::vector<const std::byte*> data;
  std::vector<bool> quantized;
  std::vector<ir::PrecisionRecord> records;
  std::vector<std::vector<ir::ValueId>> inputs;
  bool operator==(const Snapshot&) const = default;
};

inline Snapshot snapshot(const ir::Graph& g) {
  Snapshot s;
  for (const ir::Value& v : g.values) {
    s.dtypes.push_back(v.dtype);
    s.data.push_back(v.data ? v.data->data() : nullptr);
    s.quantized.push_back(v.quant.has_value());
  }
  for (const ir::Node& n : g.nodes) {
    s.records.push_back(n.precision);
    s.inputs.push_back(n.inputs);
  }
  return s;
}

}  // namespace qrt::passes_test
