// A Session on the CUDA backend: device arena, transfers, the session's stream and the CUDA graph
// recorded on the second run, against the double-precision reference. Without a GPU only the clean
// failure is checked.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "cuda/cuda_backend.h"
#include "cuda/register.h"
#include "ops/register.h"
#include "runtime/session.h"
#include "tests/cuda/cuda_test_support.h"
#include "tests/runtime/hand_graph.h"
#include "tests/support/gpu_guard.h"
#include "tests/support/random.h"

namespace {

using qrt::StatusCode;
using qrt::cuda::ActivationKind;
using qrt::runtime::Device;
using qrt::runtime::Session;
using qrt::runtime::SessionOptions;
using namespace qrt::testing;  // HandGraph and the CUDA test helpers (cuda_test_support.h)

// Float kernels against the double reference: a few float roundings per element.
constexpr double kTolerance = 1e-5;

// y = sigmoid(tanh(relu(x))), with a dynamic batch; with_cpu_node appends the rows of b to it
// (Concat along axis 0, which has no CUDA kernel, so it runs on the CPU between transfers).
std::shared_ptr<const qrt::ir::Graph> activation_chain(bool with_cpu_node) {
  HandGraph h;
  const auto x = h.input("x", {qrt::ir::kDynamicDim, 33});
  const auto r = h.node("relu", qrt::ir::OpKind::kRelu, {x});
  const auto t = h.node("tanh", qrt::ir::OpKind::kTanh, {r});
  auto y = h.node("sigmoid", qrt::ir::OpKind::kSigmoid, {t});
  if (with_cpu_node)
    y = h.node("concat", qrt::ir::OpKind::kConcat, {y, h.input("b", {qrt::ir::kDynamicDim, 33})});
  h.output(y);
  return std::make_shared<const qrt::ir::Graph>(std::move(h.graph()));
}

qrt::runtime::KernelRegistry cuda_registry() {
  qrt::runtime::KernelRegistry registry;
  qrt::cuda::register_cuda_kernels(registry);
  qrt::cuda::register_cuda_backend(registry);
  qrt::ops::register_cpu_kernels(registry);
  return registry;
}

double expected(float x) {
  const double r = activation_reference(ActivationKind::kRelu, x, 0.0);
  const double t = activation_reference(ActivationKind::kTanh, r, 0.0);
  return activation_reference(ActivationKind::kSigmoid, t, 0.0);
}

// One run on fresh inputs of `batch` rows; returns the largest error against the reference.
double run_once(Session& session, int64_t batch, uint64_t seed, bool with_cpu_node) {
  INFO("seed ", seed, ", batch ", batch);
  const auto n = static_cast<std::size_t>(batch * 33);
  const auto x = random_floats(n, seed, -3.0f, 3.0f);
  const auto b = random_floats(n, seed + 1);
  std::vector<qrt::runtime::NamedTensor> inputs{
      {"x", {qrt::ir::DType::kF32, {batch, 33}, x.data()}}};
  if (with_cpu_node) inputs.push_back({"b", {qrt::ir::DType::kF32, {batch, 33}, b.data()}});
  auto out = session.run(inputs);
  REQUIRE_MESSAGE(out.is_ok(), out.status().to_string());
  const auto y = (*out)[0].span<float>();
  REQUIRE(y.size() == (with_cpu_node ? 2 * n : n));
  double worst = 0.0;
  for (std::size_t i = 0; i < n; ++i) worst = std::max(worst, std::abs(y[i] - expected(x[i])));
  if (with_cpu_node)  // the concatenated rows of b, copied exactly
    for (std::size_t i = 0; i < n; ++i) worst = std::max(worst, std::abs(double{y[n + i]} - b[i]));
  return worst;
}

TEST_CASE("Session on CUDA: fails cleanly without a device, records and replays with one") {
  const auto registry = cuda_registry();
  auto session = Session::create(activation_chain(false), registry, SessionOptions{Device::kCuda});
  if (!gpu_unavailable_reason().empty()) {
    // Shapes are dynamic, so nothing is prepared yet: the backend's creation fails.
    REQUIRE_FALSE(session.is_ok());
    MESSAGE("without a device: " << session.status().to_string());
    CHECK(session.status().code() == StatusCode::kDeviceError);
    CHECK(contains(session.status().message(), "no CUDA device"));
  }
  QRT_REQUIRE_GPU();
  REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());
  Session& s = **session;
  for (const std::string& name : s.kernel_names()) MESSAGE(name);
  CHECK(run_once(s, 4, 1, false) < kTolerance);
  CHECK_FALSE(s.replayed_last_run());
  CHECK(s.device_arena_bytes() > 0);
  CHECK(run_once(s, 4, 2, false) < kTolerance);
  CHECK(s.replayed_last_run());
  CHECK(run_once(s, 4, 3, false) < kTolerance);
  CHECK(s.replayed_last_run());
  CHECK(run_once(s, 7, 4, false) < kTolerance);  // a new shape re-plans
  CHECK_FALSE(s.replayed_last_run());
  CHECK(run_once(s, 7, 5, false) < kTolerance);
  CHECK(s.replayed_last_run());
}

TEST_CASE("Session on CUDA: a CPU node between device nodes, and strict mode naming it") {
  QRT_REQUIRE_GPU();
  const auto registry = cuda_registry();
  auto strict =
      Session::create(activation_chain(true), registry, SessionOptions{Device::kCuda, true});
  REQUIRE_FALSE(strict.is_ok());
  CHECK(contains(strict.status().message(), "node 'concat' (Concat)"));

  auto session = Session::create(activation_chain(true), registry, SessionOptions{Device::kCuda});
  REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());
  for (uint64_t seed = 10; seed < 13; ++seed) {
    CHECK(run_once(**session, 3, seed, true) < kTolerance);
    CHECK_FALSE((*session)->replayed_last_run());  // a host step: never recorded
  }
  const auto names = (*session)->kernel_names();
  CHECK(std::count(names.begin(), names.end(), "sigmoid_out: copy cuda -> cpu") == 1);
}

TEST_CASE("Session on CUDA: constant operands (host views) on a recorded forward") {
  // y = LayerNorm(x + c; gamma, beta) over 33 features: every node on the device, c, gamma and
  // beta constants, which a session hands device kernels as host views for prepare to upload.
  QRT_REQUIRE_GPU();
  constexpr int64_t kD = 33;
  const uint64_t seed = 20;
  INFO("seed ", seed);
  const auto c = random_floats(kD, seed);
  const auto gamma = random_floats(kD, seed + 1, 0.5f, 1.5f);
  const auto beta = random_floats(kD, seed + 2);
  HandGraph h;
  const auto x = h.input("x", {qrt::ir::kDynamicDim, kD});
  const auto sum = h.node("add", qrt::ir::OpKind::kAdd, {x, h.constant("c", {kD}, c)});
  h.output(h.node("norm", qrt::ir::OpKind::kLayerNorm,
                  {sum, h.constant("gamma", {kD}, gamma), h.constant("beta", {kD}, beta)}));
  const auto graph = std::make_shared<const qrt::ir::Graph>(std::move(h.graph()));
  const float eps = std::get<qrt::ir::LayerNormAttrs>(graph->nodes[1].attrs).eps;

  const auto registry = cuda_registry();
  auto session = Session::create(graph, registry, SessionOptions{Device::kCuda, true});
  REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());
  for (uint64_t run = 0; run < 3; ++run) {
    const int64_t batch = 5;
    const auto xs = random_floats(static_cast<std::size_t>(batch * kD), seed + 10 + run, -3, 3);
    auto out = (*session)->run({{"x", {qrt::ir::DType::kF32, {batch, kD}, xs.data()}}});
    REQUIRE_MESSAGE(out.is_ok(), out.status().to_string());
    CHECK((*session)->replayed_last_run() == (run > 0));
    const auto y = (*out)[0].span<float>();
    REQUIRE(y.size() == xs.size());
    // |y| <= sqrt(D - 1) ~ 5.7: float statistics and normalization cost a few float ulps of that
    // (~1e-6); 1e-4 is far below a dropped constant (|c|, |beta| ~ 0.5).
    double worst = 0.0;
    for (int64_t r = 0; r < batch; ++r) {
      double mean = 0.0, var = 0.0;
      for (int64_t d = 0; d < kD; ++d) mean += double{xs[r * kD + d]} + c[d];
      mean /= kD;
      for (int64_t d = 0; d < kD; ++d) {
        const double dev = double{xs[r * kD + d]} + c[d] - mean;
        var += dev * dev;
      }
      var /= kD;
      for (int64_t d = 0; d < kD; ++d) {
        const double want =
            (double{xs[r * kD + d]} + c[d] - mean) / std::sqrt(var + eps) * gamma[d] + beta[d];
        worst = std::max(worst, std::abs(y[r * kD + d] - want));
      }
    }
    CHECK(worst < 1e-4);
  }
}

}  // namespace
