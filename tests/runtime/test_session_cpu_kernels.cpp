// Session with the real CPU kernels of ops/: a multi-op graph against a direct double-precision
// computation, dynamic batch, strict mode on an unsupported node, and two threads sharing a graph.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "ops/register.h"
#include "runtime/session.h"
#include "tests/runtime/hand_graph.h"
#include "tests/runtime/reference_linear.h"
#include "tests/runtime/two_thread_runs.h"
#include "tests/support/random.h"

using namespace qrt;
using runtime::NamedTensor;
using runtime::Session;
using testing::HandGraph;

namespace {

// float32 kernels against a double reference on O(1) values with reductions of at most 13 terms
// and one LayerNorm division: a few float ulps of a value ~1, well above 1e-6; 1e-4 leaves room
// for a different summation order without hiding a wrong formula.
constexpr float kTolerance = 1e-4f;

constexpr int64_t kIn = 6, kHidden = 13, kOut = 5;

struct Weights {
  std::vector<float> w1, b1, gamma, beta, w2, b2;
  explicit Weights(uint64_t seed)
      : w1(testing::random_floats(kHidden * kIn, seed)),
        b1(testing::random_floats(kHidden, seed + 1)),
        gamma(testing::random_floats(kHidden, seed + 2, 0.5f, 1.5f)),
        beta(testing::random_floats(kHidden, seed + 3)),
        w2(testing::random_floats(kOut * kHidden, seed + 4)),
        b2(testing::random_floats(kOut, seed + 5)) {}
};

// s = sigmoid(Linear2(LayerNorm(relu(Linear1(x))))); outputs {s, h} with h = Linear1(x).
std::shared_ptr<const ir::Graph> mlp_graph(const Weights& w) {
  HandGraph g;
  const auto x = g.input("x", {ir::kDynamicDim, kIn});
  const auto w1 = g.constant("fc1.weight", {kHidden, kIn}, w.w1);
  const auto b1 = g.constant("fc1.bias", {kHidden}, w.b1);
  const auto gamma = g.constant("ln.gamma", {kHidden}, w.gamma);
  const auto beta = g.constant("ln.beta", {kHidden}, w.beta);
  const auto w2 = g.constant("fc2.weight", {kOut, kHidden}, w.w2);
  const auto b2 = g.constant("fc2.bias", {kOut}, w.b2);
  const auto h = g.node("fc1", ir::OpKind::kLinear, {x, w1, b1});
  const auto r = g.node("relu", ir::OpKind::kRelu, {h});
  const auto n = g.node("ln", ir::OpKind::kLayerNorm, {r, gamma, beta});
  const auto y = g.node("fc2", ir::OpKind::kLinear, {n, w2, b2});
  const auto s = g.node("sigmoid", ir::OpKind::kSigmoid, {y});
  g.output(s);
  g.output(h);
  return std::make_shared<const ir::Graph>(std::move(g.graph()));
}

// The reference: {s, h} in double.
std::pair<std::vector<double>, std::vector<double>> reference(const Weights& w,
                                                              const std::vector<float>& x) {
  const std::vector<double> xd(x.begin(), x.end());
  const auto h = testing::reference_linear(xd, w.w1, w.b1, kIn, kHidden);
  std::vector<double> n(h.size());
  const std::size_t rows = h.size() / kHidden;
  for (std::size_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < kHidden; ++j) mean += std::max(h[r * kHidden + j], 0.0);
    mean /= kHidden;
    for (int64_t j = 0; j < kHidden; ++j) {
      const double d = std::max(h[r * kHidden + j], 0.0) - mean;
      var += d * d;
    }
    var /= kHidden;  // biased variance, as torch.nn.LayerNorm
    for (int64_t j = 0; j < kHidden; ++j)
      n[r * kHidden + j] =
          (std::max(h[r * kHidden + j], 0.0) - mean) / std::sqrt(var + 1e-5) * w.gamma[j] +
          w.beta[j];
  }
  auto s = testing::reference_linear(n, w.w2, w.b2, kHidden, kOut);
  for (double& v : s) v = 1.0 / (1.0 + std::exp(-v));
  return {s, h};
}

float max_diff(const runtime::Tensor& t, const std::vector<double>& expected) {
  auto got = t.span<float>();
  if (got.size() != expected.size()) return INFINITY;
  float m = 0.0f;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const float d = static_cast<float>(std::fabs(got[i] - expected[i]));
    if (!(d <= m)) m = d;
  }
  return m;
}

NamedTensor named_x(const std::vector<float>& x, int64_t batch) {
  return {"x", runtime::ConstTensorView{ir::DType::kF32, {batch, kIn}, x.data()}};
}

runtime::KernelRegistry cpu_registry() {
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  return registry;
}

}  // namespace

TEST_CASE("Session + CPU kernels: a multi-op graph matches a direct computation") {
  const uint64_t seed = 31337;
  MESSAGE("seed " << seed);
  const Weights w(seed);
  auto session = Session::create(mlp_graph(w), cpu_registry(), {runtime::Device::kCpu, true});
  REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());
  for (const std::string& k : (*session)->kernel_names()) MESSAGE(k);
  for (int64_t batch : {1, 7, 3, 7}) {
    INFO("batch " << batch);
    const auto x = testing::random_floats(static_cast<std::size_t>(batch * kIn), seed + batch);
    auto out = (*session)->run({named_x(x, batch)});
    REQUIRE_MESSAGE(out.is_ok(), out.status().to_string());
    REQUIRE(out->size() == 2);
    CHECK((*out)[0].shape() == ir::Shape{batch, kOut});
    CHECK((*out)[1].shape() == ir::Shape{batch, kHidden});
    const auto [s, h] = reference(w, x);
    CHECK(testing::max_abs(std::vector<float>((*out)[1].span<float>().begin(),
                                              (*out)[1].span<float>().end())) > 0.1f);
    CHECK(max_diff((*out)[0], s) < kTolerance);
    CHECK(max_diff((*out)[1], h) < kTolerance);
  }
  CHECK((*session)->arena_bytes() > 0);
}

TEST_CASE("Session + CPU kernels: strict mode names a node no kernel supports") {
  // A Linear with f16 weights: valid IR, but the reference CPU kernels are f32-only.
  HandGraph g;
  const auto x = g.input("x", {2, 4});
  std::vector<std::byte> half_bytes(3 * 4 * 2, std::byte{0x3c});
  const auto w = g.constant_raw("w_half", ir::DType::kF16, {3, 4}, half_bytes);
  g.output(g.node("fc_half", ir::OpKind::kLinear, {x, w}));
  auto graph = std::make_shared<const ir::Graph>(std::move(g.graph()));
  for (bool strict : {true, false}) {
    auto session = Session::create(graph, cpu_registry(), {runtime::Device::kCpu, strict});
    REQUIRE_FALSE(session.is_ok());
    MESSAGE(session.status().to_string());
    CHECK(session.status().message().find("node 'fc_half' (Linear)") != std::string::npos);
  }
}

TEST_CASE("Session + CPU kernels: two threads over one graph give identical results") {
  const uint64_t seed = 2024;
  MESSAGE("seed " << seed);
  const Weights w(seed);
  auto graph = mlp_graph(w);
  const auto registry = cpu_registry();
  constexpr int kRuns = 200;
  std::vector<std::vector<float>> xs;
  for (int i = 0; i < kRuns; ++i)
    xs.push_back(testing::random_floats(static_cast<std::size_t>(11 * kIn), seed + 100 + i));
  const auto batch_of = [](int i) -> int64_t { return i % 4 == 0 ? 1 : 11; };

  const std::vector<std::vector<float>> a = testing::run_on_two_threads(
      graph, registry, kRuns,
      [&](int i) { return std::vector<NamedTensor>{named_x(xs[i], batch_of(i))}; });
  for (int i = 0; i < kRuns; i += 23) {
    const std::vector<float> x(xs[i].begin(), xs[i].begin() + batch_of(i) * kIn);
    const auto expected = reference(w, x).first;
    float m = 0.0f;
    for (std::size_t j = 0; j < expected.size(); ++j)
      m = std::max(m, static_cast<float>(std::fabs(a[i][j] - expected[j])));
    CHECK(m < kTolerance);
  }
}
