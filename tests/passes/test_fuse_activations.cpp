// ir::passes::fuse_activations: which Linear + activation pairs fuse and which do not, and that the
// CPU kernels run a fused graph bit for bit as they run the unfused one, in every precision.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "ir/passes/passes.h"
#include "ir/serialize.h"
#include "ops/register.h"
#include "runtime/calibration.h"
#include "runtime/session.h"
#include "tests/passes/pass_fixtures.h"

namespace {

using namespace qrt;
using namespace qrt::ir;
using namespace qrt::ir::passes;
using namespace qrt::passes_test;

constexpr int64_t kWidth = 64;  // K of every layer: NF4's block of 64 divides each row
constexpr int64_t kOut = 5;
constexpr int64_t kRows = 9;

struct ActivationCase {
  const char* name;
  OpKind op;
  bool gelu_tanh;
  FusedActivation fused;
};

constexpr ActivationCase kActivations[] = {
    {"relu", OpKind::kRelu, false, FusedActivation::kRelu},
    {"gelu", OpKind::kGelu, false, FusedActivation::kGeluErf},
    {"gelu_tanh", OpKind::kGelu, true, FusedActivation::kGeluTanh},
    {"silu", OpKind::kSilu, false, FusedActivation::kSilu},
    {"sigmoid", OpKind::kSigmoid, false, FusedActivation::kSigmoid},
    {"tanh", OpKind::kTanh, false, FusedActivation::kTanh},
};

Graph ok(Result<Graph> r) {
  INFO(r.status().to_string());
  REQUIRE(r.is_ok());
  REQUIRE(verify(*r).is_ok());
  return std::move(r).value();
}

ValueId add_activation(frontends::GraphBuilder& b, const std::string& name, const ActivationCase& c,
                       ValueId x) {
  return c.op == OpKind::kGelu ? b.gelu(name, x, c.gelu_tanh) : b.unary(name, c.op, x);
}

ValueId add_linear(frontends::GraphBuilder& b, const std::string& name, ValueId x, int64_t n,
                   uint64_t seed) {
  return b.linear(name, x, random_constant(b, name + ".weight", {n, kWidth}, seed),
                  random_constant(b, name + ".bias", {n}, seed + 1));
}

// x [?, 64] -> fc0 -> relu -> fc1 -> relu -> fc2 -> gelu -> fc3 -> gelu_tanh -> fc4 -> silu -> fc5
// -> sigmoid -> fc6 -> tanh -> head [5, 64] -> y. Every activation kind follows a Linear; with
// the default policy (fc0 and head kept in fp16) int8-static keeps codes from fc1 through its
// Relu into fc2, a static chain the pass must leave alone.
Graph every_activation_mlp(uint64_t seed = kSeed) {
  MESSAGE("every_activation_mlp weights seed " << seed);
  std::vector<ActivationCase> layers = {kActivations[0]};
  layers.insert(layers.end(), std::begin(kActivations), std::end(kActivations));
  frontends::GraphBuilder b;
  ValueId h = b.input("x", {kDynamicDim, kWidth});
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string index = std::to_string(i);
    h = add_linear(b, "fc" + index, h, kWidth, seed + 2 * i);
    h = add_activation(b, "act" + index, layers[i], h);
  }
  b.output(add_linear(b, "head", h, kOut, seed + 100), "y");
  return built(b);
}

FusedActivation activation_of(const Graph& g, const std::string& linear) {
  return std::get<LinearAttrs>(node(g, linear).attrs).activation;
}

int fused_linears(const Graph& g) {
  int n = 0;
  for (const Node& node : g.nodes)
    if (const auto* a = std::get_if<LinearAttrs>(&node.attrs))
      n += a->activation != FusedActivation::kNone;
  return n;
}

std::vector<std::byte> bytes_of(const Graph& g) {
  auto bytes = serialize_model(g);
  INFO(bytes.status().to_string());
  REQUIRE(bytes.is_ok());
  return std::move(bytes).value();
}

runtime::KernelRegistry cpu_registry() {
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  return registry;
}

// The graph's only output for x [rows, 64], on the CPU kernels in a strict session.
std::vector<float> run(const Graph& g, const std::vector<float>& x) {
  const runtime::KernelRegistry registry = cpu_registry();
  auto session = runtime::Session::create(std::make_shared<const Graph>(g), registry,
                                          {runtime::Device::kCpu, true});
  INFO(session.status().to_string());
  REQUIRE(session.is_ok());
  const runtime::ConstTensorView view{
      DType::kF32, {kRows, kWidth}, x.data(), runtime::Device::kCpu};
  auto outputs = (*session)->run({{"x", view}});
  INFO(outputs.status().to_string());
  REQUIRE(outputs.is_ok());
  const auto y = (*outputs)[0].span<const float>();
  return {y.begin(), y.end()};
}

CalibrationTable calibrated(const Graph& g, const std::vector<float>& x) {
  const runtime::KernelRegistry registry = cpu_registry();
  const runtime::ConstTensorView view{
      DType::kF32, {kRows, kWidth}, x.data(), runtime::Device::kCpu};
  auto table = runtime::calibrate(std::make_shared<const Graph>(g), registry, {{{"x", view}}});
  INFO(table.status().to_string());
  REQUIRE(table.is_ok());
  return std::move(table).value();
}

// Bit for bit, NaN included: what "the same kernel arithmetic" means.
void check_bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  float largest = 0.0f;
  for (float v : a) largest = std::fmax(largest, std::fabs(v));
  CHECK(largest > 0.1f);  // a zero output would match for the wrong reason
}

TEST_CASE("fuse_activations fuses each activation kind into the Linear that feeds it") {
  for (const ActivationCase& c : kActivations) {
    INFO(c.name);
    frontends::GraphBuilder b;
    const ValueId x = b.input("x", {kDynamicDim, kWidth});
    const ValueId h = add_activation(b, "act", c, add_linear(b, "fc", x, kWidth, kSeed));
    b.output(add_linear(b, "head", h, kOut, kSeed + 10), "y");
    const Graph g = built(b);
    const std::vector<std::byte> before = bytes_of(g);

    const Graph f = ok(fuse_activations(g));
    CHECK(activation_of(f, "fc") == c.fused);
    CHECK(activation_of(f, "head") == FusedActivation::kNone);
    CHECK(f.find_node("act") < 0);
    CHECK(f.nodes.size() == g.nodes.size() - 1);
    // fc writes the activation's value; its own output value is gone.
    CHECK(f.find_value("fc") == kNoValue);
    CHECK(f.values.size() == g.values.size() - 1);
    CHECK(f.values[static_cast<size_t>(node(f, "fc").outputs[0])].name == "act");
    CHECK(node(f, "head").inputs[0] == node(f, "fc").outputs[0]);

    CHECK(bytes_of(g) == before);                             // pure: the input is untouched
    CHECK(bytes_of(ok(fuse_activations(f))) == bytes_of(f));  // idempotent
  }
}

TEST_CASE(
    "fuse_activations leaves a Linear whose output is read twice, is a graph output, or "
    "feeds LeakyRelu") {
  frontends::GraphBuilder b;
  const ValueId x = b.input("x", {kDynamicDim, kWidth});
  // Two readers: the Relu and the residual Add.
  const ValueId shared = add_linear(b, "shared", x, kWidth, kSeed);
  const ValueId relu = b.unary("shared.relu", OpKind::kRelu, shared);
  const ValueId sum = b.binary("residual", OpKind::kAdd, relu, shared);
  // A graph output that is also the Relu's only input.
  const ValueId visible = add_linear(b, "visible", sum, kWidth, kSeed + 2);
  const ValueId visible_act = b.unary("visible.tanh", OpKind::kTanh, visible);
  // LeakyRelu has no fused form.
  const ValueId leaky = b.leaky_relu("leaky", add_linear(b, "to_leaky", visible_act, kWidth, 7));
  // Reference that something does fuse in this graph: the pass did run.
  const ValueId fused =
      b.unary("last.silu", OpKind::kSilu, add_linear(b, "last", leaky, kWidth, 9));
  b.output(visible);
  b.output(fused);
  const Graph g = built(b);

  const Graph f = ok(fuse_activations(g));
  CHECK(activation_of(f, "shared") == FusedActivation::kNone);
  CHECK(activation_of(f, "visible") == FusedActivation::kNone);
  CHECK(activation_of(f, "to_leaky") == FusedActivation::kNone);
  CHECK(activation_of(f, "last") == FusedActivation::kSilu);
  CHECK(f.nodes.size() == g.nodes.size() - 1);
  for (const char* kept : {"shared.relu", "visible.tanh", "leaky"}) CHECK(f.find_node(kept) >= 0);
  CHECK(f.values[static_cast<size_t>(f.outputs[0])].name == "visible");
  CHECK(f.values[static_cast<size_t>(f.outputs[1])].name == "last.silu");
}

TEST_CASE("fuse_activations leaves int8 codes of a static chain alone") {
  const uint64_t input_seed = kSeed + 1;
  MESSAGE("input seed " << input_seed);
  const Graph g = every_activation_mlp();
  const std::vector<float> x = testing::random_normal(kRows * kWidth, input_seed, 1.5f);
  const Graph q = ok(quantize_static(g, calibrated(g, x)));
  REQUIRE(value(q, "fc1").dtype == DType::kI8);  // fc1 -> relu -> fc2 is a chain

  const Graph f = ok(fuse_activations(q));
  CHECK(activation_of(f, "fc1") == FusedActivation::kNone);
  CHECK(f.find_node("act1") >= 0);
  // fc0 (kept fp16) writes the value fc1 reads with its calibrated parameters.
  CHECK(activation_of(f, "fc0") == FusedActivation::kRelu);
  CHECK(value(f, "act0").quant.has_value());
  CHECK(activation_of(f, "fc2") == FusedActivation::kGeluErf);
  CHECK(fused_linears(f) == 6);
}

TEST_CASE("fused graphs run bit for bit as the unfused ones in every precision (CPU)") {
  const uint64_t input_seed = kSeed + 2;
  MESSAGE("input seed " << input_seed);
  const Graph g = every_activation_mlp();
  const std::vector<float> x = testing::random_normal(kRows * kWidth, input_seed, 1.5f);
  const CalibrationTable table = calibrated(g, x);
  struct Variant {
    const char* name;
    Result<Graph> graph;
    int fused;  // Linears the pass fuses: every one but head, and fc1 in a static chain
  };
  const int all = static_cast<int>(std::size(kActivations)) + 1;
  Variant variants[] = {
      {"fp32", g, all},
      {"fp16", downcast(g, Precision::kFP16), all},
      {"w8a16", quantize_weights(g), all},
      {"int8-dynamic", quantize_dynamic(g), all},
      {"int8-static", quantize_static(g, table), all - 1},
      {"nf4", quantize_nf4(g), all},
  };
  for (Variant& v : variants) {
    INFO(v.name);
    const Graph unfused = ok(std::move(v.graph));
    const Graph fused = ok(fuse_activations(unfused));
    CHECK(fused_linears(fused) == v.fused);
    check_bit_identical(run(unfused, x), run(fused, x));
  }
}

// The other order: a float graph fused first, then quantized. The static chain pass then makes a
// fused Linear write int8 codes (fc1 + relu feeding fc2), and its kernel applies the activation
// before requantizing: the codes the unfused chain's Relu on codes computes.
TEST_CASE("fusing before quantize_static gives the same outputs as fusing after") {
  const uint64_t input_seed = kSeed + 3;
  MESSAGE("input seed " << input_seed);
  const Graph g = every_activation_mlp();
  const std::vector<float> x = testing::random_normal(kRows * kWidth, input_seed, 1.5f);
  const Graph fused_first = ok(fuse_activations(g));
  const Graph quantized_fused = ok(quantize_static(fused_first, calibrated(fused_first, x)));
  CHECK(activation_of(quantized_fused, "fc1") == FusedActivation::kRelu);
  CHECK(value(quantized_fused, "act1").dtype == DType::kI8);

  const Graph fused_last = ok(fuse_activations(ok(quantize_static(g, calibrated(g, x)))));
  check_bit_identical(run(quantized_fused, x), run(fused_last, x));
}

}  // namespace
