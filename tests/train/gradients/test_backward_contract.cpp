// The dispatcher's contract (train/op_gradient.h): which nodes have a gradient, gradients that are
// not wanted are skipped, absent output gradients count as zero, and bad nodes or tensors give a
// Status naming the node instead of a crash.
#include <doctest/doctest.h>

#include <string>

#include "tests/support/random.h"
#include "tests/train/gradients/gradient_harness.h"

namespace qrt::testing {
namespace {

// A Linear node x [M, K] · W [N, K]ᵀ + b with its tensors, ready to run backward on.
struct LinearFixture {
  static constexpr int64_t M = 3, N = 5, K = 7;
  ir::Graph graph = one_node_graph(ir::OpKind::kLinear, ir::LinearAttrs{}, {true, true, true}, 1);
  std::vector<float> x, w, b, y, dy;
  std::vector<float> dx, dw, db;
  explicit LinearFixture(uint64_t seed)
      : x(random_floats(M * K, seed)),
        w(random_floats(N * K, seed + 1)),
        b(random_floats(N, seed + 2)),
        y(M * N, 0.0f),
        dy(random_floats(M * N, seed + 3)),
        dx(M * K, 0.0f),
        dw(N * K, 0.0f),
        db(N, 0.0f) {}
  std::vector<runtime::ConstTensorView> inputs() const {
    return {{ir::DType::kF32, {M, K}, x.data()},
            {ir::DType::kF32, {N, K}, w.data()},
            {ir::DType::kF32, {N}, b.data()}};
  }
  std::vector<runtime::ConstTensorView> outputs() const {
    return {{ir::DType::kF32, {M, N}, y.data()}};
  }
  std::vector<runtime::ConstTensorView> output_grads() const {
    return {{ir::DType::kF32, {M, N}, dy.data()}};
  }
  std::vector<runtime::TensorView> input_grads() {
    return {{ir::DType::kF32, {M, K}, dx.data()},
            {ir::DType::kF32, {N, K}, dw.data()},
            {ir::DType::kF32, {N}, db.data()}};
  }
  Status run(const std::vector<runtime::ConstTensorView>& in,
             const std::vector<runtime::ConstTensorView>& out,
             const std::vector<runtime::ConstTensorView>& dout,
             const std::vector<runtime::TensorView>& din) const {
    return train::backward({graph, graph.nodes[0], in, out, dout, din});
  }
};

TEST_CASE("has_gradient: every op of ir/ops.def in fp32, none in quantized or half precisions") {
  for (int op = 0; op < ir::kNumOpKinds; ++op) {
    ir::Node node;
    node.op = static_cast<ir::OpKind>(op);
    INFO(ir::op_name(node.op));
    CHECK(train::has_gradient(node));
    for (const char* p : {"int8-static", "int8-dynamic", "w8a16", "nf4", "fp16", "bf16"}) {
      node.precision.precision = p;
      CHECK_FALSE(train::has_gradient(node));
    }
  }
}

TEST_CASE("backward of a quantized node is unsupported and names the node") {
  LinearFixture f(1);
  f.graph.nodes[0].precision.precision = "int8-static";
  const Status s = f.run(f.inputs(), f.outputs(), f.output_grads(), f.input_grads());
  CHECK(s.code() == StatusCode::kUnsupported);
  CHECK(s.message().find("'node'") != std::string::npos);
  CHECK(s.message().find("int8-static") != std::string::npos);
}

TEST_CASE("a Linear with a fused activation has no gradient; backward refuses it, naming it") {
  LinearFixture f(7001);
  std::get<ir::LinearAttrs>(f.graph.nodes[0].attrs).activation = ir::FusedActivation::kGeluTanh;
  CHECK_FALSE(train::has_gradient(f.graph.nodes[0]));
  const Status s = f.run(f.inputs(), f.outputs(), f.output_grads(), f.input_grads());
  INFO(s.to_string());
  CHECK(s.code() == StatusCode::kUnsupported);
  CHECK(s.message().find("node 'node' (Linear)") != std::string::npos);
  CHECK(s.message().find("fused activation 'gelu_tanh'") != std::string::npos);
  CHECK(s.message().find("train the unfused graph") != std::string::npos);
  CHECK(max_abs(f.dw) == 0.0f);  // nothing was accumulated
}

TEST_CASE("gradients that are not wanted are skipped, the others unchanged") {
  const uint64_t seed = 2001;
  MESSAGE("seed " << seed);
  LinearFixture all(seed), only_w(seed);
  REQUIRE(all.run(all.inputs(), all.outputs(), all.output_grads(), all.input_grads()).is_ok());
  std::vector<runtime::TensorView> din = only_w.input_grads();
  din[0].data = nullptr;
  din[2].data = nullptr;
  REQUIRE(only_w.run(only_w.inputs(), only_w.outputs(), only_w.output_grads(), din).is_ok());
  CHECK(max_abs(all.dw) > 0.1f);
  CHECK(only_w.dw == all.dw);  // same kernel, same order: bit-identical
  CHECK(max_abs(only_w.dx) == 0.0f);
  CHECK(max_abs(only_w.db) == 0.0f);
}

TEST_CASE("an absent output gradient counts as zero: nothing is added") {
  LinearFixture f(3001);
  std::vector<runtime::ConstTensorView> dout = f.output_grads();
  dout[0].data = nullptr;
  f.dx.assign(f.dx.size(), 0.25f);
  REQUIRE(f.run(f.inputs(), f.outputs(), dout, f.input_grads()).is_ok());
  CHECK(f.dx == std::vector<float>(f.dx.size(), 0.25f));
  CHECK(max_abs(f.dw) == 0.0f);
}

TEST_CASE("an absent optional input (no bias) gets no gradient and does not fail") {
  LinearFixture f(4001);
  f.graph.nodes[0].inputs[2] = ir::kNoValue;
  std::vector<runtime::ConstTensorView> in = f.inputs();
  in[2] = {};
  std::vector<runtime::TensorView> din = f.input_grads();
  din[2] = {};
  REQUIRE(f.run(in, f.outputs(), f.output_grads(), din).is_ok());
  CHECK(max_abs(f.dx) > 0.1f);
}

// A runtime may leave outputs nobody reads unbound (ops/lstm.cpp: h_n, c_n); their views then carry
// neither data nor shape, and with no gradient they must simply count as zero.
TEST_CASE("unbound outputs without data or shape are accepted (LSTM with unread h_n, c_n)") {
  const uint64_t seed = 6001;
  MESSAGE("seed " << seed);
  const int64_t B = 2, T = 3, C = 2, H = 3;
  const ir::Graph g = one_node_graph(ir::OpKind::kLSTM, ir::LstmAttrs{H, 1},
                                     {true, false, false, true, true, true, true}, 3);
  const std::vector<float> x = random_floats(B * T * C, seed);
  const std::vector<float> w_ih = random_floats(4 * H * C, seed + 1);
  const std::vector<float> w_hh = random_floats(4 * H * H, seed + 2);
  const std::vector<float> b_ih = random_floats(4 * H, seed + 3);
  const std::vector<float> b_hh = random_floats(4 * H, seed + 4);
  const std::vector<float> dy = random_floats(B * T * H, seed + 5);
  std::vector<float> y(B * T * H), h_n(B * H), c_n(B * H);
  const std::vector<runtime::ConstTensorView> in = {{ir::DType::kF32, {B, T, C}, x.data()},
                                                    {},
                                                    {},
                                                    {ir::DType::kF32, {4 * H, C}, w_ih.data()},
                                                    {ir::DType::kF32, {4 * H, H}, w_hh.data()},
                                                    {ir::DType::kF32, {4 * H}, b_ih.data()},
                                                    {ir::DType::kF32, {4 * H}, b_hh.data()}};
  std::vector<float> dx_bound(x.size(), 0.0f), dx_unbound(x.size(), 0.0f);
  for (bool bound : {true, false}) {
    std::vector<runtime::ConstTensorView> out = {{ir::DType::kF32, {B, T, H}, y.data()}, {}, {}};
    if (bound) {
      out[1] = {ir::DType::kF32, {1, B, H}, h_n.data()};
      out[2] = {ir::DType::kF32, {1, B, H}, c_n.data()};
    }
    const std::vector<runtime::ConstTensorView> dout = {
        {ir::DType::kF32, {B, T, H}, dy.data()}, {}, {}};
    std::vector<runtime::TensorView> din(7);
    din[0] = {ir::DType::kF32, {B, T, C}, bound ? dx_bound.data() : dx_unbound.data()};
    const Status s = train::backward({g, g.nodes[0], in, out, dout, din});
    REQUIRE_MESSAGE(s.is_ok(), s.to_string());
  }
  CHECK(max_abs(dx_bound) > 0.01f);
  CHECK(dx_bound == dx_unbound);
}

TEST_CASE("bad nodes and tensors give a Status naming the node") {
  LinearFixture f(5001);
  auto expect_error = [](const Status& s, const std::string& fragment) {
    INFO(s.to_string());
    CHECK_FALSE(s.is_ok());
    CHECK(s.message().find("node 'node' (Linear)") != std::string::npos);
    CHECK(s.message().find(fragment) != std::string::npos);
  };
  SUBCASE("too few tensors for the node's inputs") {
    std::vector<runtime::ConstTensorView> in = f.inputs();
    in.pop_back();
    expect_error(f.run(in, f.outputs(), f.output_grads(), f.input_grads()), "inputs");
  }
  SUBCASE("gradient with the wrong shape") {
    std::vector<runtime::TensorView> din = f.input_grads();
    din[1].shape = {LinearFixture::K, LinearFixture::N};
    expect_error(f.run(f.inputs(), f.outputs(), f.output_grads(), din), "gradient of input 1");
  }
  SUBCASE("weight inconsistent with x") {
    std::vector<runtime::ConstTensorView> in = f.inputs();
    std::vector<runtime::TensorView> din = f.input_grads();
    in[1].shape = din[1].shape = {LinearFixture::K, LinearFixture::N};
    expect_error(f.run(in, f.outputs(), f.output_grads(), din), "last dim");
  }
  SUBCASE("output gradient with the wrong shape") {
    std::vector<runtime::ConstTensorView> dout = f.output_grads();
    dout[0].shape = {LinearFixture::N, LinearFixture::M};
    expect_error(f.run(f.inputs(), f.outputs(), dout, f.input_grads()), "gradient of output 0");
  }
  SUBCASE("a non-f32 tensor") {
    std::vector<runtime::ConstTensorView> in = f.inputs();
    in[1].dtype = ir::DType::kF16;
    expect_error(f.run(in, f.outputs(), f.output_grads(), f.input_grads()), "f16");
  }
  SUBCASE("a CUDA tensor") {
    std::vector<runtime::ConstTensorView> in = f.inputs();
    in[0].device = runtime::Device::kCuda;
    expect_error(f.run(in, f.outputs(), f.output_grads(), f.input_grads()), "CPU");
  }
  SUBCASE("attributes of another op") {
    f.graph.nodes[0].op = ir::OpKind::kLSTM;
    const Status s = f.run(f.inputs(), f.outputs(), f.output_grads(), f.input_grads());
    CHECK_FALSE(s.is_ok());
    CHECK(s.message().find("'node'") != std::string::npos);
  }
  // Every kernel receives a well-counted node that is wrong for its op, and must refuse it.
  SUBCASE("every op refuses a node with a mismatched signature") {
    for (int op = 0; op < ir::kNumOpKinds; ++op) {
      f.graph.nodes[0].op = static_cast<ir::OpKind>(op);
      f.graph.nodes[0].attrs = ir::default_attrs(f.graph.nodes[0].op);
      if (f.graph.nodes[0].op == ir::OpKind::kLinear) continue;
      INFO(ir::op_name(f.graph.nodes[0].op));
      const Status s = f.run(f.inputs(), f.outputs(), f.output_grads(), f.input_grads());
      CHECK_FALSE(s.is_ok());
      CHECK(s.message().find("'node'") != std::string::npos);
    }
  }
}

}  // namespace
}  // namespace qrt::testing
