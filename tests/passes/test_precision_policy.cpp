// Precision policy: glob patterns, first/last layers, name patterns, min_in_features, and the
// reasons recorded for each weighted layer.
#include <doctest/doctest.h>

#include "ir/passes/precision_policy.h"
#include "tests/passes/pass_fixtures.h"

namespace {

using namespace qrt;
using namespace qrt::ir;
using namespace qrt::ir::passes;
using qrt::passes_test::mlp;

TEST_CASE("matches_pattern: '*' matches any run of characters, the whole name must match") {
  CHECK(matches_pattern("fc1", "fc*"));
  CHECK(matches_pattern("fc", "fc*"));
  CHECK(matches_pattern("encoder.fc1", "*fc*"));
  CHECK(matches_pattern("abcbc", "a*bc"));
  CHECK(matches_pattern("ac", "a*c"));
  CHECK(matches_pattern("anything", "*"));
  CHECK(matches_pattern("", "*"));
  CHECK(matches_pattern("", ""));
  CHECK(matches_pattern("head", "head"));
  CHECK_FALSE(matches_pattern("f", "fc*"));
  CHECK_FALSE(matches_pattern("fc10", "fc1"));
  CHECK_FALSE(matches_pattern("a", ""));
  CHECK_FALSE(matches_pattern("abcb", "a*bc"));
  CHECK_FALSE(matches_pattern("xfc1", "fc*"));
}

std::vector<std::pair<std::string, std::string>> summary(const Graph& g,
                                                         const std::vector<LayerDecision>& ds) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const LayerDecision& d : ds)
    out.emplace_back(g.nodes[static_cast<size_t>(d.node)].name,
                     std::string(precision_name(d.precision)) + " | " + d.reason);
  return out;
}

TEST_CASE("default policy keeps the first and last weighted layers in fp16") {
  const Graph g = mlp();
  const auto ds = decide_precisions(g, Precision::kInt8Dynamic, {});
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"fc1", "fp16 | kept fp16: first weighted layer"},
      {"fc2", "int8-dynamic | quantized: int8-dynamic"},
      {"fc3", "int8-dynamic | quantized: int8-dynamic"},
      {"head", "fp16 | kept fp16: last weighted layer"}};
  CHECK(summary(g, ds) == expected);
  for (const LayerDecision& d : ds) CHECK(is_weighted(g.nodes[static_cast<size_t>(d.node)]));
  CHECK_FALSE(is_weighted(passes_test::node(g, "fc1.relu")));
}

TEST_CASE("patterns, keep_precision, min_in_features, and their precedence") {
  const Graph g = mlp();
  PrecisionPolicy policy;
  policy.keep_first = false;
  policy.keep_last = true;
  policy.keep_precision = Precision::kBF16;
  policy.keep_patterns = {"nomatch*", "fc3*"};
  policy.min_in_features = 16;  // fc1 has 7 input features
  const auto ds = decide_precisions(g, Precision::kNF4, policy);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"fc1", "fp32 | kept fp32: in_features 7 < min_in_features 16"},
      {"fc2", "nf4 | quantized: nf4"},
      {"fc3", "bf16 | kept bf16: matches pattern 'fc3*'"},
      {"head", "bf16 | kept bf16: last weighted layer"}};
  CHECK(summary(g, ds) == expected);

  // The first/last rule wins over patterns; the limit applies only to layers not otherwise kept.
  policy.keep_first = true;
  policy.keep_patterns = {"fc1", "*"};
  const auto kept = decide_precisions(g, Precision::kW8A16, policy);
  CHECK(summary(g, kept)[0].second == "bf16 | kept bf16: first weighted layer");
  CHECK(summary(g, kept)[1].second == "bf16 | kept bf16: matches pattern '*'");
}

TEST_CASE("a single weighted layer is both first and last; downcast reasons") {
  frontends::GraphBuilder b;
  const ValueId x = b.input("x", {2, 5});
  const ValueId w = passes_test::random_constant(b, "w", {3, 5}, passes_test::kSeed);
  b.output(b.linear("only", x, w), "y");
  const Graph g = passes_test::built(b);
  auto ds = decide_precisions(g, Precision::kNF4, {});
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].reason == "kept fp16: first and last weighted layer");
  PrecisionPolicy none;
  none.keep_first = none.keep_last = false;
  ds = decide_precisions(g, Precision::kBF16, none);
  CHECK(ds[0].precision == Precision::kBF16);
  CHECK(ds[0].reason == "downcast: bf16");
}

TEST_CASE("a weight that is not an f32 constant leaves its node unchanged") {
  frontends::GraphBuilder b;
  const ValueId x = b.input("x", {2, 5});
  const ValueId w = b.input("w_runtime", {3, 5});
  b.output(b.linear("fc", x, w), "y");
  const Graph g = passes_test::built(b);
  const auto ds = decide_precisions(g, Precision::kW8A16, {});
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].precision == Precision::kFP32);
  CHECK(ds[0].reason == "unchanged: weight 'w_runtime' is not a constant");
}

}  // namespace
