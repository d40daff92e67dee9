// Relu, LeakyRelu, Gelu (erf and tanh forms), Silu, Sigmoid, Tanh against hand values and float64
// formulas, including very large |x|.
#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <functional>

#include "tests/ops/op_harness.h"

namespace qrt::testing {
namespace {

// float exp/erf/tanh are accurate to a few ulps (relative 1e-6 is ~8 ulps); GELU at negative x
// computes 1 + erf(·) near 0, a cancellation worth |x|·ulp(1) ≈ 5e-7 absolute for |x| <= 8.
constexpr double kRelTol = 1e-6;
constexpr double kAbsTol = 1e-6;

OpCase unary_case(ir::OpKind op, ir::Attrs attrs, const HostTensor& x) {
  return {op, std::move(attrs), {x}, {x.shape}};
}

std::vector<float> run_unary(ir::OpKind op, ir::Attrs attrs, const HostTensor& x) {
  auto got = run_cpu_op(unary_case(op, std::move(attrs), x));
  REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
  return (*got)[0];
}

struct Activation {
  const char* name;
  ir::OpKind op;
  ir::Attrs attrs;
  std::function<double(double)> reference;  // float64 definition
};

double sigmoid_ref(double v) {
  return 1.0 / (1.0 + std::exp(-v));
}

std::vector<Activation> all_activations() {
  const double kPi = 3.14159265358979323846;
  return {
      {"relu", ir::OpKind::kRelu, ir::NoAttrs{}, [](double v) { return v > 0 ? v : 0.0; }},
      {"leaky_relu 0.2", ir::OpKind::kLeakyRelu, ir::LeakyReluAttrs{0.2f},
       [](double v) { return v >= 0 ? v : double(0.2f) * v; }},  // the slope is the float 0.2f
      {"gelu erf", ir::OpKind::kGelu, ir::GeluAttrs{false},
       [](double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); }},
      {"gelu tanh", ir::OpKind::kGelu, ir::GeluAttrs{true},
       [kPi](double v) {
         return 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / kPi) * (v + 0.044715 * v * v * v)));
       }},
      {"silu", ir::OpKind::kSilu, ir::NoAttrs{}, [](double v) { return v * sigmoid_ref(v); }},
      {"sigmoid", ir::OpKind::kSigmoid, ir::NoAttrs{}, sigmoid_ref},
      {"tanh", ir::OpKind::kTanh, ir::NoAttrs{}, [](double v) { return std::tanh(v); }},
  };
}

TEST_CASE("Activations: hand-computed values") {
  const HostTensor x{{5}, {-2.0f, -0.5f, 0.0f, 1.0f, 3.0f}};
  CHECK(run_unary(ir::OpKind::kRelu, ir::NoAttrs{}, x) ==
        std::vector<float>{0.0f, 0.0f, 0.0f, 1.0f, 3.0f});
  // slope 0.25 is exact in binary: -2·0.25 = -0.5, -0.5·0.25 = -0.125.
  CHECK(run_unary(ir::OpKind::kLeakyRelu, ir::LeakyReluAttrs{0.25f}, x) ==
        std::vector<float>{-0.5f, -0.125f, 0.0f, 1.0f, 3.0f});
  const auto sig = run_unary(ir::OpKind::kSigmoid, ir::NoAttrs{}, x);
  CHECK(sig[2] == 0.5f);                                         // σ(0) = 1/2
  CHECK(sig[3] == doctest::Approx(0.7310585786).epsilon(1e-6));  // 1/(1+e^-1)
  const auto th = run_unary(ir::OpKind::kTanh, ir::NoAttrs{}, x);
  CHECK(th[2] == 0.0f);
  CHECK(th[3] == doctest::Approx(0.7615941560).epsilon(1e-6));
  const auto silu = run_unary(ir::OpKind::kSilu, ir::NoAttrs{}, x);
  CHECK(silu[3] == doctest::Approx(0.7310585786).epsilon(1e-6));  // 1·σ(1)
  // GELU(1): erf form Φ(1) = 0.8413447461; tanh form 0.5·(1 + tanh(√(2/π)·1.044715)) = 0.8411920.
  const auto gelu_erf = run_unary(ir::OpKind::kGelu, ir::GeluAttrs{false}, x);
  CHECK(gelu_erf[2] == 0.0f);
  CHECK(gelu_erf[3] == doctest::Approx(0.8413447461).epsilon(1e-6));
  const auto gelu_tanh = run_unary(ir::OpKind::kGelu, ir::GeluAttrs{true}, x);
  CHECK(gelu_tanh[3] == doctest::Approx(0.8411919906).epsilon(1e-6));
}

TEST_CASE("Activations: random shapes against float64 formulas") {
  const ir::Shape shapes[] = {{1}, {7, 13}, {2, 3, 5}, {1, 1}};
  uint64_t seed = 700;
  for (const Activation& a : all_activations()) {
    for (const ir::Shape& shape : shapes) {
      ++seed;
      INFO(a.name << " seed " << seed << " shape " << ir::shape_to_string(shape));
      const HostTensor x = random_tensor(shape, seed, -8.0f, 8.0f);
      const auto y = run_unary(a.op, a.attrs, x);
      for (std::size_t i = 0; i < y.size(); ++i) {
        const double ref = a.reference(x.data[i]);
        REQUIRE_MESSAGE(std::fabs(y[i] - ref) <= kAbsTol + kRelTol * std::fabs(ref),
                        "x " << x.data[i] << " got " << y[i] << " expected " << ref);
      }
    }
  }
}

TEST_CASE("Activations: large |x| gives finite saturated values") {
  const std::vector<float> big = {-FLT_MAX, -1e30f, -1e10f,  -1000.0f, -100.0f, -88.8f,
                                  88.8f,    100.0f, 1000.0f, 1e10f,    1e30f,   FLT_MAX};
  const HostTensor x{{static_cast<int64_t>(big.size())}, big};
  for (const Activation& a : all_activations()) {
    INFO(a.name);
    const auto y = run_unary(a.op, a.attrs, x);
    for (std::size_t i = 0; i < y.size(); ++i) {
      INFO("x " << big[i] << " y " << y[i]);
      REQUIRE(std::isfinite(y[i]));
    }
  }
  const auto sig = run_unary(ir::OpKind::kSigmoid, ir::NoAttrs{}, x);
  CHECK(sig.front() == 0.0f);
  CHECK(sig.back() == 1.0f);
  const auto th = run_unary(ir::OpKind::kTanh, ir::NoAttrs{}, x);
  CHECK(th.front() == -1.0f);
  CHECK(th.back() == 1.0f);
  // For large negative x SiLU and GELU vanish, for large positive x they are the identity.
  for (ir::Attrs attrs : {ir::Attrs{ir::GeluAttrs{false}}, ir::Attrs{ir::GeluAttrs{true}}}) {
    const auto g = run_unary(ir::OpKind::kGelu, attrs, x);
    CHECK(g[3] == 0.0f);
    CHECK(g[8] == 1000.0f);
  }
  const auto silu = run_unary(ir::OpKind::kSilu, ir::NoAttrs{}, x);
  CHECK(silu[3] == 0.0f);
  CHECK(silu.back() == FLT_MAX);
}

TEST_CASE("Activations: prepare rejects a shape change and names the node") {
  OpCase c = unary_case(ir::OpKind::kTanh, ir::NoAttrs{}, random_tensor({3, 4}, 1));
  c.output_shapes = {{4, 3}};
  c.node_name = "act_bad_shape";
  auto r = run_cpu_op(c);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("act_bad_shape") != std::string::npos);
}

}  // namespace
}  // namespace qrt::testing
