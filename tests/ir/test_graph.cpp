// Graph lookups, topological ordering and whole-graph shape inference.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "tests/ir/graph_fixtures.h"
#include "tests/ir/infer_test_util.h"
#include "tests/support/node_builder.h"

using namespace qrt;
using namespace qrt::ir;
using namespace qrt::ir::testing;

namespace {

Value plain_value(const std::string& name, Shape shape = {2}) {
  Value v;
  v.name = name;
  v.shape = std::move(shape);
  return v;
}

Node relu(const std::string& name, ValueId in, ValueId out) {
  return qrt::testing::make_node(name, OpKind::kRelu, NoAttrs{}, {in}, {out});
}

// x -> a (Add x, b_out) -> b (Relu) -> back into a, and c (Relu of b) downstream of the cycle,
// stored first so that the first unscheduled node is not on the cycle.
Graph cyclic_graph() {
  Graph g;
  for (const char* name : {"x", "a_out", "b_out", "c_out"}) g.values.push_back(plain_value(name));
  g.inputs = {0};
  g.nodes.push_back(relu("c", 2, 3));
  g.nodes.push_back(qrt::testing::make_node("a", OpKind::kAdd, NoAttrs{}, {0, 2}, {1}));
  g.nodes.push_back(relu("b", 1, 2));
  g.outputs = {3};
  return g;
}

}  // namespace

TEST_CASE("find_value, find_node, weight_bytes") {
  const Graph g = small_mlp();
  CHECK(g.find_value("x") == 0);
  CHECK(g.values[static_cast<size_t>(g.find_value("w"))].name == "w");
  CHECK(g.find_value("y") != kNoValue);
  CHECK(g.find_value("act") == kNoValue);  // renamed to "y" by output()
  CHECK(g.find_value("nope") == kNoValue);
  CHECK(g.find_node("fc") == 0);
  CHECK(g.find_node("act") == 1);
  CHECK(g.find_node("y") == -1);
  CHECK(g.weight_bytes() == (4 * 8 + 4) * sizeof(float));
}

TEST_CASE("topological_order") {
  SUBCASE("keeps a stored topological order") {
    const Graph g = small_mlp();
    auto order = topological_order(g);
    REQUIRE(order.is_ok());
    CHECK(*order == std::vector<int>{0, 1});
  }
  SUBCASE("sorts a shuffled chain") {
    // x -> n0 -> n1 -> ... -> n9, stored in a seeded random order.
    constexpr uint64_t kSeed = 7;
    MESSAGE("shuffle seed " << kSeed);
    Graph g;
    g.values.push_back(plain_value("x"));
    g.inputs = {0};
    for (int i = 0; i < 10; ++i) {
      g.values.push_back(plain_value("v" + std::to_string(i)));
      g.nodes.push_back(relu("n" + std::to_string(i), i, i + 1));
    }
    std::mt19937_64 rng(kSeed);
    std::shuffle(g.nodes.begin(), g.nodes.end(), rng);
    auto order = topological_order(g);
    REQUIRE(order.is_ok());
    REQUIRE(order->size() == 10);
    for (size_t i = 0; i < order->size(); ++i)
      CHECK(g.nodes[static_cast<size_t>((*order)[i])].name == "n" + std::to_string(i));
    CHECK_FALSE(verify(g).is_ok());  // verify also wants the stored order topological
  }
  SUBCASE("cycle names a node on it") {
    auto order = topological_order(cyclic_graph());
    REQUIRE_FALSE(order.is_ok());
    const std::string& m = order.status().message();
    INFO(m);
    CHECK(m.find("cycle") != std::string::npos);
    CHECK(m.find("through node 'c'") == std::string::npos);  // c is only downstream
    CHECK((m.find("through node 'a' (Add)") != std::string::npos ||
           m.find("through node 'b' (Relu)") != std::string::npos));
  }
  SUBCASE("self loop") {
    Graph g;
    g.values = {plain_value("x"), plain_value("y")};
    g.nodes = {relu("loop", 1, 1)};
    g.inputs = {0};
    auto order = topological_order(g);
    REQUIRE_FALSE(order.is_ok());
    CHECK(order.status().message().find("cycle through node 'loop' (Relu)") != std::string::npos);
  }
  SUBCASE("value consumed but never produced") {
    Graph g;
    g.values = {plain_value("x"), plain_value("orphan"), plain_value("y")};
    g.nodes = {relu("r", 1, 2)};
    g.inputs = {0};
    auto order = topological_order(g);
    REQUIRE_FALSE(order.is_ok());
    const std::string& m = order.status().message();
    INFO(m);
    CHECK(m.find("node 'r' (Relu)") == 0);
    CHECK(m.find("'orphan', which no node produces") != std::string::npos);
  }
  SUBCASE("ids out of range are errors, not crashes") {
    Graph g = small_mlp();
    g.nodes[1].inputs[0] = 1000;
    CHECK(topological_order(g).status().message().find("value id 1000 is out of range") !=
          std::string::npos);
    g = small_mlp();
    g.nodes[1].outputs[0] = -5;
    CHECK_FALSE(topological_order(g).is_ok());
  }
}

TEST_CASE("infer_shapes with given input shapes") {
  const Graph g = small_mlp();
  SUBCASE("declared shapes keep the batch dynamic") {
    auto t = infer_shapes(g, {{kDynamicDim, 8}});
    REQUIRE(t.is_ok());
    CHECK(t->at(static_cast<size_t>(g.find_value("y"))).shape == Shape{kDynamicDim, 4});
    CHECK(t->at(static_cast<size_t>(g.find_value("w"))) == TensorType{DType::kF32, {4, 8}});
  }
  SUBCASE("concrete shapes give concrete results") {
    auto t = infer_shapes(g, {{13, 8}});
    REQUIRE(t.is_ok());
    CHECK(t->at(static_cast<size_t>(g.find_value("fc"))).shape == Shape{13, 4});
    CHECK(t->at(static_cast<size_t>(g.find_value("y"))).shape == Shape{13, 4});
  }
  SUBCASE("given shapes must match the declared ones") {
    auto count = infer_shapes(g, {});
    CHECK(count.status().code() == StatusCode::kInvalidArgument);
    CHECK(count.status().message().find("expected 1 input shapes, got 0") != std::string::npos);
    auto rank = infer_shapes(g, {{13, 8, 1}});
    CHECK(rank.status().message().find("graph input 'x'") != std::string::npos);
    auto dim = infer_shapes(g, {{13, 9}});
    CHECK(dim.status().message().find("differs from declared [?, 8] in dim 1") !=
          std::string::npos);
    auto negative = infer_shapes(g, {{-3, 8}});
    CHECK(negative.status().message().find("negative dim") != std::string::npos);
  }
  SUBCASE("errors name the node") {
    auto t = infer_shapes(g, {{kDynamicDim, 8}});
    Graph bad = g;
    bad.values[static_cast<size_t>(bad.find_value("w"))].shape = {4, 9};
    bad.values[static_cast<size_t>(bad.find_value("w"))].data =
        ConstantData::copy_of(ramp(36).data(), 36 * sizeof(float)).value();
    auto r = infer_shapes(bad, {{kDynamicDim, 8}});
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().message().rfind("node 'fc' (Linear): x has shape [?, 8]", 0) == 0);
  }
}

TEST_CASE("infer_shapes and verify never crash on corrupted graphs") {
  // Seeded random corruption of ids, ops, attributes, dims and dtypes: every outcome is fine except
  // a crash; the valid starting point must keep verifying.
  constexpr uint64_t kSeed = 99;
  constexpr int kTrials = 3000;
  MESSAGE("corruption seed " << kSeed << ", " << kTrials << " trials");
  std::mt19937_64 rng(kSeed);
  const Graph base = small_mlp();
  REQUIRE(verify(base).is_ok());
  int rejected = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    Graph g = base;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      Node& node = g.nodes[rng() % g.nodes.size()];
      const int64_t junk = static_cast<int64_t>(rng() % 9) - 4;
      switch (rng() % 9) {
        case 0:
          if (!node.inputs.empty())
            node.inputs[rng() % node.inputs.size()] = static_cast<ValueId>(junk * 3);
          break;
        case 1:
          if (!node.outputs.empty()) node.outputs[0] = static_cast<ValueId>(junk);
          break;
        case 2:
          node.op = static_cast<OpKind>(rng() % (kNumOpKinds + 2));
          break;
        case 3:
          node.attrs = default_attrs(static_cast<OpKind>(rng() % kNumOpKinds));
          break;
        case 4:
          node.inputs.push_back(static_cast<ValueId>(junk));
          break;
        case 5:
          node.inputs.clear();
          break;
        case 6: {
          Value& v = g.values[rng() % g.values.size()];
          if (!v.shape.empty()) v.shape[rng() % v.shape.size()] = junk;
          break;
        }
        case 7:
          g.values[rng() % g.values.size()].dtype = static_cast<DType>(rng() % 9);
          break;
        case 8:
          g.inputs.push_back(static_cast<ValueId>(junk));
          break;
      }
    }
    std::vector<Shape> shapes;
    for (size_t i = 0; i < g.inputs.size(); ++i)
      shapes.push_back({static_cast<int64_t>(rng() % 4) - 1, 8});
    (void)infer_shapes(g, shapes);
    if (!verify(g).is_ok()) ++rejected;
  }
  MESSAGE(rejected << " of " << kTrials << " corrupted graphs rejected");
  CHECK(rejected > kTrials / 2);
}
