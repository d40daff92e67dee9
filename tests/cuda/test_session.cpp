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

// y = sigmoid(tanh(relu(x))) + b, with a dynamic batch; the Add has no CUDA kernel.
std::shared_ptr<const qrt::ir::Graph> activation_chain(bool with_add) {
  HandGraph h;
  const auto x = h.input("x", {qrt::ir::kDynamicDim, 33});
  const auto r = h.node("relu", qrt::ir::OpKind::kRelu, {x});
  const auto t = h.node("tanh", qrt::ir::OpKind::kTanh, {r});
  auto y = h.node("sigmoid", qrt::ir::OpKind::kSigmoid, {t});
  if (with_add)
    y = h.node("add", qrt::ir::OpKind::kAdd, {y, h.input("b", {qrt::ir::kDynamicDim, 33})});
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

double expected(float x, float b) {
  const double r = activation_reference(ActivationKind::kRelu, x, 0.0);
  const double t = activation_reference(ActivationKind::kTanh, r, 0.0);
  return activation_reference(ActivationKind::kSigmoid, t, 0.0) + b;
}

// One run on fresh inputs of `batch` rows; returns the largest error against the reference.
double run_once(Session& session, int64_t batch, uint64_t seed, bool with_add) {
  INFO("seed ", seed, ", batch ", batch);
  const auto n = static_cast<std::size_t>(batch * 33);
  const auto x = random_floats(n, seed, -3.0f, 3.0f);
  const auto b = with_add ? random_floats(n, seed + 1) : std::vector<float>(n, 0.0f);
  std::vector<qrt::runtime::NamedTensor> inputs{
      {"x", {qrt::ir::DType::kF32, {batch, 33}, x.data()}}};
  if (with_add) inputs.push_back({"b", {qrt::ir::DType::kF32, {batch, 33}, b.data()}});
  auto out = session.run(inputs);
  REQUIRE_MESSAGE(out.is_ok(), out.status().to_string());
  const auto y = (*out)[0].span<float>();
  REQUIRE(y.size() == n);
  double worst = 0.0;
  for (std::size_t i = 0; i < n; ++i)
    worst = std::max(worst, std::abs(y[i] - expected(x[i], b[i])));
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
  CHECK(contains(strict.status().message(), "node 'add' (Add)"));

  auto session = Session::create(activation_chain(true), registry, SessionOptions{Device::kCuda});
  REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());
  for (uint64_t seed = 10; seed < 13; ++seed) {
    CHECK(run_once(**session, 3, seed, true) < kTolerance);
    CHECK_FALSE((*session)->replayed_last_run());  // a host step: never recorded
  }
  const auto names = (*session)->kernel_names();
  CHECK(std::count(names.begin(), names.end(), "sigmoid_out: copy cuda -> cpu") == 1);
}

}  // namespace
