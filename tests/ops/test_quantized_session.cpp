// Quantized kernels through the runtime: a Session picks them from the registry for graphs in each
// precision's form (verify, shape inference, planning included), gives the kernel-level result,
// and a strict session names a node whose form no kernel implements.
#include <doctest/doctest.h>

#include <memory>

#include "ir/quantize.h"
#include "ops/register.h"
#include "runtime/session.h"
#include "tests/ops/quantized_harness.h"
#include "tests/support/random.h"

namespace qrt::testing {
namespace {

QCase int8_linear_case(const std::string& precision, uint64_t seed, const ir::Shape& w_shape) {
  const int64_t M = 3, N = w_shape[0], K = w_shape[1];
  const std::vector<float> wf = random_normal(N * K, seed + 1);
  auto w = ir::quantize_weight_per_channel({wf, {N, K}});
  REQUIRE(w.is_ok());
  QCase c;
  c.op = ir::OpKind::kLinear;
  c.attrs = ir::LinearAttrs{};
  c.precision.precision = precision;
  c.precision.outlier_threshold = precision == "int8-dynamic" ? 6.0f : 0.0f;
  c.inputs = {
      f32_input("x", {M, K}, random_floats(M * K, seed, -8.0f, 8.0f)),
      raw_constant("w", ir::DType::kI8, {N, K}, w->codes.data(), w->codes.size(), w->params),
      f32_constant("b", {N}, random_floats(N, seed + 2))};
  c.output_shapes = {{M, N}};
  return c;
}

TEST_CASE("Session runs quantized Linear nodes with the quantized kernels (strict)") {
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  uint64_t seed = 8000;
  for (const char* precision : {"int8-dynamic", "w8a16"}) {
    ++seed;
    INFO("seed " << seed << " precision " << precision);
    const QCase c = int8_linear_case(precision, seed, {5, 13});
    auto graph = std::make_shared<const ir::Graph>(quantized_graph(c));
    REQUIRE(ir::verify(*graph).is_ok());
    auto session = runtime::Session::create(graph, registry, {runtime::Device::kCpu, true});
    REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());
    const std::vector<std::string> kernels = (*session)->kernel_names();
    REQUIRE(kernels.size() == 1);
    // K = 13 < 16: the projection runs from f32 weights decoded at prepare, and says so.
    CHECK(kernels[0] == std::string("op_under_test: cpu.reference.linear.") + precision +
                            " (f32 weights decoded at prepare, K=13 < 16)");

    auto x = runtime::Tensor::allocate(ir::DType::kF32, c.inputs[0].value.shape);
    REQUIRE(x.is_ok());
    std::copy(c.inputs[0].data.begin(), c.inputs[0].data.end(), x->span<float>().begin());
    auto out = (*session)->run({{"x", x->view()}});
    REQUIRE_MESSAGE(out.is_ok(), out.status().to_string());
    auto direct = run_quantized_op(c);
    REQUIRE(direct.is_ok());
    const auto y = (*out)[0].span<const float>();
    REQUIRE(y.size() == direct->outputs[0].size());
    CHECK(max_abs(direct->outputs[0]) > 0.0f);
    for (std::size_t i = 0; i < y.size(); ++i) CHECK(y[i] == direct->outputs[0][i]);
  }
}

TEST_CASE("A strict session names the node no quantized kernel implements") {
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  // int8 weights recorded as bf16: a valid graph that no CPU kernel runs.
  const QCase c = int8_linear_case("bf16", 8100, {4, 7});
  auto graph = std::make_shared<const ir::Graph>(quantized_graph(c));
  auto session = runtime::Session::create(graph, registry, {runtime::Device::kCpu, true});
  REQUIRE_FALSE(session.is_ok());
  CHECK(session.status().to_string().find("op_under_test") != std::string::npos);
}

}  // namespace
}  // namespace qrt::testing
