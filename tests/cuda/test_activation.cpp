// The CUDA activations against a double-precision CPU reference, the launcher's argument checks and
// the registry entry. GPU parts skip without a device; validation and wiring run everywhere.
#include <doctest/doctest.h>

#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "cuda/activation.cuh"
#include "cuda/device_buffer.h"
#include "cuda/register.h"
#include "ir/graph.h"
#include "runtime/kernel_registry.h"
#include "tests/cuda/cuda_test_support.h"
#include "tests/support/gpu_guard.h"
#include "tests/support/random.h"

namespace {

using qrt::Status;
using qrt::StatusCode;
using qrt::cuda::ActivationKind;
using namespace qrt::testing;  // the CUDA test helpers (cuda_test_support.h)

// CUDA's expf/erff/tanhf are within 2 ulp (CUDA Math API appendix) and each formula adds a few
// float roundings, so a correct kernel stays within ~1e-6 relative; 1e-5 leaves margin while any
// wrong constant or formula (errors >= 1e-3) fails.
constexpr double kRelativeTolerance = 1e-5;
// Near zero, GELU(x) for x << 0 is x/2 · (1 + erf(x/√2)) with 1 + erf(...) cancelling in float (as
// in PyTorch): absolute error up to |x|/2 · 2^-24 ≈ 3e-7 for |x| <= 10; 1e-6 covers it.
constexpr double kAbsoluteTolerance = 1e-6;
constexpr float kLeakySlope = 0.1f;

constexpr ActivationKind kAllKinds[] = {ActivationKind::kRelu,    ActivationKind::kLeakyRelu,
                                        ActivationKind::kGeluErf, ActivationKind::kGeluTanh,
                                        ActivationKind::kSilu,    ActivationKind::kSigmoid,
                                        ActivationKind::kTanh};

std::vector<double> reference(ActivationKind kind, const std::vector<float>& x, double slope) {
  std::vector<double> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = activation_reference(kind, x[i], slope);
  return y;
}

bool close_enough(float actual, double expected) {
  if (std::isnan(expected)) return std::isnan(actual);
  if (std::isinf(expected)) return actual == static_cast<float>(expected);
  return std::fabs(actual - expected) <=
         kAbsoluteTolerance + kRelativeTolerance * std::fabs(expected);
}

// Index of the first element that differs from the reference beyond tolerance, or -1.
int64_t first_mismatch(const float* actual, const std::vector<double>& expected) {
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (!close_enough(actual[i], expected[i])) return static_cast<int64_t>(i);
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------------
// Launcher validation: runs without a GPU (every check below precedes the first CUDA call).

TEST_CASE("launch_activation rejects bad arguments, naming them") {
  alignas(16) float a[8] = {};
  alignas(16) float b[8] = {};

  const Status bad_kind =
      qrt::cuda::launch_activation(static_cast<ActivationKind>(99), a, b, 4, 0.0f, nullptr);
  CHECK(bad_kind.code() == StatusCode::kInvalidArgument);
  CHECK(contains(bad_kind.message(), "99"));

  const Status negative =
      qrt::cuda::launch_activation(ActivationKind::kTanh, a, b, -3, 0.0f, nullptr);
  CHECK(negative.code() == StatusCode::kInvalidArgument);
  CHECK(contains(negative.message(), "n = -3"));

  // n == 0 is a no-op that needs neither pointers nor a device.
  CHECK(qrt::cuda::launch_activation(ActivationKind::kRelu, nullptr, nullptr, 0, 0.0f, nullptr)
            .is_ok());

  const Status null_x =
      qrt::cuda::launch_activation(ActivationKind::kSilu, nullptr, b, 4, 0.0f, nullptr);
  CHECK(null_x.code() == StatusCode::kInvalidArgument);
  CHECK(contains(null_x.message(), "x is null"));
  CHECK(contains(null_x.message(), "silu"));

  const Status null_y =
      qrt::cuda::launch_activation(ActivationKind::kSilu, a, nullptr, 4, 0.0f, nullptr);
  CHECK(null_y.code() == StatusCode::kInvalidArgument);
  CHECK(contains(null_y.message(), "y is null"));

  const auto* misaligned = reinterpret_cast<const float*>(reinterpret_cast<const char*>(a) + 2);
  const Status unaligned =
      qrt::cuda::launch_activation(ActivationKind::kRelu, misaligned, b, 4, 0.0f, nullptr);
  CHECK(unaligned.code() == StatusCode::kInvalidArgument);
  CHECK(contains(unaligned.message(), "x is not 4-byte aligned"));

  const Status overlap =
      qrt::cuda::launch_activation(ActivationKind::kRelu, a, a + 1, 4, 0.0f, nullptr);
  CHECK(overlap.code() == StatusCode::kInvalidArgument);
  CHECK(contains(overlap.message(), "overlap"));
}

TEST_CASE("launch_activation refuses host memory the device cannot reach, without crashing") {
  std::vector<float> x(16, -1.0f), y(16, 5.0f);
  const Status status =
      qrt::cuda::launch_activation(ActivationKind::kRelu, x.data(), y.data(), 16, 0.0f, nullptr);
  MESSAGE("plain host pointers: " << status.to_string());
  if (!qrt::cuda::device_available()) {
    CHECK(status.code() == StatusCode::kDeviceError);
    CHECK(y[0] == 5.0f);  // nothing was written
    return;
  }
  int pageable_memory_access = 0;
  REQUIRE(cudaDeviceGetAttribute(&pageable_memory_access, cudaDevAttrPageableMemoryAccess, 0) ==
          cudaSuccess);
  if (pageable_memory_access != 0) {
    // HMM/ATS systems: the GPU reads and writes pageable memory, so the launch is legitimate.
    REQUIRE_MESSAGE(status.is_ok(), status.to_string());
    REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
    CHECK(y[0] == 0.0f);
  } else {
    CHECK(status.code() == StatusCode::kInvalidArgument);
    CHECK(contains(status.message(), "x is host memory"));
    CHECK(y[0] == 5.0f);
  }
}

// ---------------------------------------------------------------------------------------------------
// Numerics on the GPU.

struct Placement {
  int64_t x_offset;  // in floats from a 256-byte-aligned cudaMalloc base
  int64_t y_offset;
  const char* what;
};
constexpr Placement kPlacements[] = {
    {0, 0, "both 16-byte aligned (float4 body)"},
    {1, 1, "same misalignment (scalar head, float4 body, scalar tail)"},
    {1, 2, "different misalignment (scalar kernel)"},
    {3, 0, "x misaligned, y aligned (scalar kernel)"},
};
constexpr int64_t kMaxOffset = 4;

// Copies x to device memory at `placement`, poisons the whole output buffer with NaN, runs the
// launcher and returns the whole output buffer (n + kMaxOffset floats) so the caller can check both
// the results and that nothing outside [y_offset, y_offset + n) was written.
std::vector<float> run_on_gpu(ActivationKind kind, const std::vector<float>& x,
                              const Placement& placement, float slope) {
  const std::size_t padded = x.size() + kMaxOffset;
  auto x_buffer = qrt::cuda::DeviceBuffer::allocate(padded * sizeof(float));
  auto y_buffer = qrt::cuda::DeviceBuffer::allocate(padded * sizeof(float));
  REQUIRE(x_buffer.is_ok());
  REQUIRE(y_buffer.is_ok());
  float* device_x = x_buffer->as<float>() + placement.x_offset;
  float* device_y = y_buffer->as<float>() + placement.y_offset;
  std::vector<float> output(padded, std::numeric_limits<float>::quiet_NaN());
  REQUIRE(cudaMemcpy(device_x, x.data(), x.size() * sizeof(float), cudaMemcpyHostToDevice) ==
          cudaSuccess);
  REQUIRE(cudaMemcpy(y_buffer->data(), output.data(), padded * sizeof(float),
                     cudaMemcpyHostToDevice) == cudaSuccess);
  const Status status = qrt::cuda::launch_activation(
      kind, device_x, device_y, static_cast<int64_t>(x.size()), slope, nullptr);
  REQUIRE_MESSAGE(status.is_ok(), status.to_string());
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  REQUIRE(cudaMemcpy(output.data(), y_buffer->data(), padded * sizeof(float),
                     cudaMemcpyDeviceToHost) == cudaSuccess);
  return output;
}

TEST_CASE("each activation matches the CPU reference: sizes 1..2^20+3, aligned and unaligned") {
  QRT_REQUIRE_GPU();
  const int64_t sizes[] = {1, 7, 4093, (int64_t{1} << 20) + 3};
  for (const ActivationKind kind : kAllKinds) {
    for (std::size_t s = 0; s < std::size(sizes); ++s) {
      const uint64_t seed = 7000 + 100 * static_cast<uint64_t>(kind) + s;
      const int64_t n = sizes[s];
      INFO("activation ", qrt::cuda::activation_name(kind), ", n = ", n, ", seed = ", seed);
      // stddev 3: covers the saturated tails of sigmoid/tanh/GELU as well as the curved middle.
      const std::vector<float> x =
          qrt::testing::random_normal(static_cast<std::size_t>(n), seed, 3.0f);
      const std::vector<double> expected = reference(kind, x, kLeakySlope);
      double norm = 0.0;
      for (const double v : expected) norm += v * v;
      REQUIRE(norm > 0.0);  // never compare all-zero outputs
      for (const Placement& placement : kPlacements) {
        INFO("placement: ", placement.what);
        const std::vector<float> output = run_on_gpu(kind, x, placement, kLeakySlope);
        const float* y = output.data() + placement.y_offset;
        const int64_t bad = first_mismatch(y, expected);
        if (bad >= 0) {
          INFO("x[", bad, "] = ", x[bad], ": got ", y[bad], ", expected ", expected[bad]);
          CHECK(bad < 0);
        }
        int64_t written_outside = 0;
        for (int64_t i = 0; i < static_cast<int64_t>(output.size()); ++i) {
          const bool inside = i >= placement.y_offset && i < placement.y_offset + n;
          if (!inside && !std::isnan(output[static_cast<std::size_t>(i)])) ++written_outside;
        }
        CHECK(written_outside == 0);
      }
    }
  }
}

TEST_CASE("special values follow IEEE and PyTorch semantics") {
  QRT_REQUIRE_GPU();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {std::numeric_limits<float>::quiet_NaN(),
                                inf,
                                -inf,
                                0.0f,
                                -0.0f,
                                1e30f,
                                -1e30f,
                                100.0f,
                                -100.0f,
                                1e-30f,
                                -1e-30f};
  for (const ActivationKind kind : kAllKinds) {
    INFO("activation ", qrt::cuda::activation_name(kind));
    const std::vector<float> output = run_on_gpu(kind, x, kPlacements[0], kLeakySlope);
    const std::vector<double> expected = reference(kind, x, kLeakySlope);
    for (std::size_t i = 0; i < x.size(); ++i) {
      INFO("x = ", x[i], ": got ", output[i], ", expected ", expected[i]);
      CHECK(close_enough(output[i], expected[i]));
    }
  }
}

TEST_CASE("in-place activation (x == y) and a non-default LeakyReLU slope") {
  QRT_REQUIRE_GPU();
  const uint64_t seed = 4242;
  const int64_t n = 1021;  // prime
  INFO("seed = ", seed, ", n = ", n);
  const std::vector<float> x =
      qrt::testing::random_floats(static_cast<std::size_t>(n), seed, -4, 4);
  const float slope = 0.37f;
  auto buffer = qrt::cuda::DeviceBuffer::allocate(static_cast<std::size_t>(n) * sizeof(float));
  REQUIRE(buffer.is_ok());
  float* data = buffer->as<float>();
  REQUIRE(cudaMemcpy(data, x.data(), x.size() * sizeof(float), cudaMemcpyHostToDevice) ==
          cudaSuccess);
  REQUIRE(qrt::cuda::launch_activation(ActivationKind::kLeakyRelu, data, data, n, slope, nullptr)
              .is_ok());
  std::vector<float> y(x.size(), std::numeric_limits<float>::quiet_NaN());
  REQUIRE(cudaMemcpy(y.data(), data, y.size() * sizeof(float), cudaMemcpyDeviceToHost) ==
          cudaSuccess);
  CHECK(first_mismatch(y.data(), reference(ActivationKind::kLeakyRelu, x, slope)) == -1);
  CHECK(qrt::testing::max_abs(y) > 0.0f);
}

// ---------------------------------------------------------------------------------------------------
// The registry entry.

// x (f32 [2, 3]) -> node -> y.
qrt::ir::Graph single_node_graph(qrt::ir::OpKind op, qrt::ir::Attrs attrs,
                                 qrt::ir::DType dtype = qrt::ir::DType::kF32) {
  qrt::ir::Graph graph;
  qrt::ir::Value x;
  x.name = "x";
  x.dtype = dtype;
  x.shape = {2, 3};
  qrt::ir::Value y;
  y.name = "y";
  y.dtype = dtype;
  y.shape = x.shape;
  graph.values = {x, y};
  qrt::ir::Node node;
  node.name = "act";
  node.op = op;
  node.attrs = std::move(attrs);
  node.inputs = {0};
  node.outputs = {1};
  graph.nodes = {node};
  graph.inputs = {0};
  graph.outputs = {1};
  return graph;
}

TEST_CASE("register_cuda_kernels adds one kCuda entry per activation op") {
  qrt::runtime::KernelRegistry registry;
  qrt::cuda::register_cuda_kernels(registry);
  int activations = 0;
  for (const auto& entry : registry.entries()) {
    CHECK(entry.device == qrt::runtime::Device::kCuda);
    activations += entry.name.rfind("cuda.activation.", 0) == 0;
  }
  CHECK(activations == 6);

  const auto relu = single_node_graph(qrt::ir::OpKind::kRelu, qrt::ir::NoAttrs{});
  const auto* found = registry.find(relu, relu.nodes[0], qrt::runtime::Device::kCuda);
  REQUIRE(found != nullptr);
  CHECK(found->name == "cuda.activation.relu");
  CHECK(registry.find(relu, relu.nodes[0], qrt::runtime::Device::kCpu) == nullptr);

  const auto gelu = single_node_graph(qrt::ir::OpKind::kGelu, qrt::ir::GeluAttrs{true});
  found = registry.find(gelu, gelu.nodes[0], qrt::runtime::Device::kCuda);
  REQUIRE(found != nullptr);
  CHECK(found->name == "cuda.activation.gelu");

  // Only f32 is supported: an f16 graph must fall through (to another kernel, or a clear error).
  const auto half =
      single_node_graph(qrt::ir::OpKind::kTanh, qrt::ir::NoAttrs{}, qrt::ir::DType::kF16);
  CHECK(registry.find(half, half.nodes[0], qrt::runtime::Device::kCuda) == nullptr);
}

TEST_CASE("the CUDA activation kernel: prepare fails cleanly without a device, runs with one") {
  qrt::runtime::KernelRegistry registry;
  qrt::cuda::register_cuda_kernels(registry);
  const float slope = 0.2f;
  const auto graph = single_node_graph(qrt::ir::OpKind::kLeakyRelu, qrt::ir::LeakyReluAttrs{slope});
  const auto* entry = registry.find(graph, graph.nodes[0], qrt::runtime::Device::kCuda);
  REQUIRE(entry != nullptr);
  auto kernel = entry->create();
  REQUIRE(kernel != nullptr);
  const qrt::ir::TensorType type{qrt::ir::DType::kF32, {2, 3}};
  const qrt::runtime::PrepareContext prepare{graph, graph.nodes[0], {&type}, {&type}};
  const Status prepared = kernel->prepare(prepare);

  const std::string reason = qrt::testing::gpu_unavailable_reason();
  if (!reason.empty()) {
    REQUIRE_FALSE(prepared.is_ok());
    MESSAGE("prepare without a device: " << prepared.to_string());
    CHECK(prepared.code() == StatusCode::kDeviceError);
    CHECK(contains(prepared.message(), "node 'act' (LeakyRelu)"));
    CHECK(contains(prepared.message(), "no CUDA device"));
  }
  QRT_REQUIRE_GPU();
  REQUIRE_MESSAGE(prepared.is_ok(), prepared.to_string());

  const uint64_t seed = 99;
  INFO("seed = ", seed);
  std::vector<float> x = qrt::testing::random_floats(6, seed, -2, 2);
  // Session-planned views: device memory, and the session's stream (here the legacy default one).
  const qrt::cuda::DeviceBuffer x_device = upload(x);
  const qrt::cuda::DeviceBuffer y_device = poisoned(6 * sizeof(float), 0xFF);
  const qrt::runtime::ConstTensorView input{
      qrt::ir::DType::kF32, {2, 3}, x_device.data(), qrt::runtime::Device::kCuda};
  const qrt::runtime::TensorView output{
      qrt::ir::DType::kF32, {2, 3}, y_device.data(), qrt::runtime::Device::kCuda};
  const qrt::runtime::RunContext run{{&input, 1}, {&output, 1}, nullptr, nullptr};
  const Status ran = kernel->run(run);
  REQUIRE_MESSAGE(ran.is_ok(), ran.to_string());
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  const std::vector<float> y = download<float>(y_device, 6);
  CHECK(first_mismatch(y.data(), reference(ActivationKind::kLeakyRelu, x, slope)) == -1);
  CHECK(qrt::testing::max_abs(y) > 0.0f);

  // Host views are refused: the session hands a device kernel device memory only.
  const qrt::runtime::ConstTensorView host_input{
      qrt::ir::DType::kF32, {2, 3}, x.data(), qrt::runtime::Device::kCpu};
  const Status host = kernel->run({{&host_input, 1}, {&output, 1}, nullptr, nullptr});
  CHECK(host.code() == StatusCode::kInvalidArgument);
  CHECK(contains(host.message(), "device (cuda) tensors"));

  // A wrong output size is a data-dependent check of run().
  const qrt::cuda::DeviceBuffer small = poisoned(5 * sizeof(float), 0xFF);
  const qrt::runtime::TensorView wrong{
      qrt::ir::DType::kF32, {5}, small.data(), qrt::runtime::Device::kCuda};
  const Status mismatched = kernel->run({{&input, 1}, {&wrong, 1}, nullptr, nullptr});
  CHECK(mismatched.code() == StatusCode::kInvalidArgument);
  CHECK(contains(mismatched.message(), "node 'act'"));
}

}  // namespace
