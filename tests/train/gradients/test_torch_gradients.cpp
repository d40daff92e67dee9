// Backward kernels against PyTorch autograd. torch_gradient_fixtures.py (run by CTest as a fixture
// before this test) writes, per case, seeded random f32 inputs and upstream gradients dy with the
// float64 autograd gradients of L = Σ dy ⊙ y; this test runs qrt::train::backward on the same
// numbers and compares.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <string>

#include "tests/support/random.h"
#include "tests/train/gradients/gradient_harness.h"

#ifndef QRT_TORCH_FIXTURE_DIR
#error "QRT_TORCH_FIXTURE_DIR must name the folder torch_gradient_fixtures.py writes"
#endif

namespace qrt::testing {
namespace {

// The bar: gradients agree with PyTorch's to 1e-4, relative to the largest entry of each
// gradient tensor. The reference is float64 autograd on the same f32 values, so the difference is
// the f32 rounding of qrt's kernels (~1e-6 of the scale for these sizes).
constexpr double kTorchTolerance = 1e-4;

struct Fixture {
  ir::Shape shape;
  std::vector<float> values;
};

std::map<std::string, Fixture> read_fixture(const std::string& name) {
  const std::string path = std::string(QRT_TORCH_FIXTURE_DIR) + "/" + name + ".txt";
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path << " (written by torch_gradient_fixtures.py)");
  std::map<std::string, Fixture> tensors;
  std::string tensor_name;
  int rank = 0;
  while (in >> tensor_name >> rank) {
    Fixture f;
    f.shape.resize(rank);
    for (int64_t& d : f.shape) in >> d;
    f.values.resize(static_cast<std::size_t>(ir::numel(f.shape)));
    for (float& v : f.values) in >> v;
    REQUIRE_MESSAGE(!in.fail(), "malformed tensor " << tensor_name << " in " << path);
    tensors[tensor_name] = std::move(f);
  }
  return tensors;
}

// prefix + name (built with +=: GCC 12 warns falsely on const char* + std::string&&).
std::string key(const char* prefix, const std::string& name) {
  std::string k = prefix;
  k += name;
  return k;
}

// Runs backward for a node whose inputs are the fixture tensors `input_names` (in node order) and
// whose outputs are y0, y1, ... with gradients dy0, dy1, ...; compares d_<input> for every input.
void check_against_torch(const std::string& fixture, ir::OpKind op, ir::Attrs attrs,
                         const std::vector<std::string>& input_names, std::size_t n_outputs) {
  INFO("fixture " << fixture);
  std::map<std::string, Fixture> t = read_fixture(fixture);
  const ir::Graph g =
      one_node_graph(op, std::move(attrs), std::vector<bool>(input_names.size(), true), n_outputs);
  std::vector<runtime::ConstTensorView> in, out, dout;
  std::vector<runtime::TensorView> din;
  std::vector<std::vector<float>> grads(input_names.size());
  for (std::size_t i = 0; i < input_names.size(); ++i) {
    REQUIRE(t.count(input_names[i]) == 1);
    const Fixture& f = t[input_names[i]];
    grads[i].assign(f.values.size(), 0.0f);
    in.push_back({ir::DType::kF32, f.shape, f.values.data()});
    din.push_back({ir::DType::kF32, f.shape, grads[i].data()});
  }
  for (std::size_t o = 0; o < n_outputs; ++o) {
    const Fixture& y = t[key("y", std::to_string(o))];
    const Fixture& dy = t[key("dy", std::to_string(o))];
    out.push_back({ir::DType::kF32, y.shape, y.values.data()});
    dout.push_back({ir::DType::kF32, dy.shape, dy.values.data()});
  }
  const Status s = train::backward({g, g.nodes[0], in, out, dout, din});
  REQUIRE_MESSAGE(s.is_ok(), s.to_string());
  for (std::size_t i = 0; i < input_names.size(); ++i) {
    INFO("gradient of " << input_names[i]);
    const Fixture& expected = t[key("d_", input_names[i])];
    REQUIRE(expected.values.size() == grads[i].size());
    const float scale = max_abs(expected.values);
    const float err = max_abs_diff(expected.values, grads[i]);
    INFO("max |qrt - torch| " << err << ", gradient scale " << scale);
    CHECK(scale > 1e-3f);
    CHECK(err <= kTorchTolerance * scale);
  }
}

TEST_CASE("Linear backward matches PyTorch autograd") {
  MESSAGE("fixtures: torch_gradient_fixtures.py, seed 20240517");
  check_against_torch("linear", ir::OpKind::kLinear, ir::LinearAttrs{}, {"x", "w", "b"}, 1);
}

TEST_CASE("LSTM backward (2 layers, T = 5) matches PyTorch autograd") {
  std::vector<std::string> names = {"x", "h0", "c0"};
  for (int l = 0; l < 2; ++l)
    for (const char* p : {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l"})
      names.push_back(key(p, std::to_string(l)));
  check_against_torch("lstm", ir::OpKind::kLSTM, ir::LstmAttrs{6, 2}, names, 3);
}

TEST_CASE("LayerNorm backward matches PyTorch autograd") {
  check_against_torch("layer_norm", ir::OpKind::kLayerNorm, ir::LayerNormAttrs{1e-5f},
                      {"x", "gamma", "beta"}, 1);
}

TEST_CASE("Gelu backward (erf and tanh) matches PyTorch autograd") {
  check_against_torch("gelu_none", ir::OpKind::kGelu, ir::GeluAttrs{false}, {"x"}, 1);
  check_against_torch("gelu_tanh", ir::OpKind::kGelu, ir::GeluAttrs{true}, {"x"}, 1);
}

TEST_CASE("Broadcasting Mul backward matches PyTorch autograd") {
  check_against_torch("mul_broadcast", ir::OpKind::kMul, ir::NoAttrs{}, {"a", "b"}, 1);
}

}  // namespace
}  // namespace qrt::testing
