// verify(): each check rejects a graph broken in exactly one way, naming the node or value at
// fault.
#include <doctest/doctest.h>

#include <cmath>

#include "ir/quant_formats.h"
#include "tests/ir/graph_fixtures.h"
#include "tests/support/node_builder.h"

using namespace qrt;
using namespace qrt::ir;
using namespace qrt::ir::testing;

namespace {

size_t value_index(const Graph& g, const std::string& name) {
  const ValueId id = g.find_value(name);
  REQUIRE(id != kNoValue);
  return static_cast<size_t>(id);
}

ConstantData bytes_of(size_t n, uint8_t fill = 0x5a) {
  std::vector<uint8_t> b(n, fill);
  return ConstantData::copy_of(b.data(), b.size()).value();
}

// x [?, 96] -> fc (Linear) with weight `w` of the given dtype, logical shape [4, 96], quant params
// q. Built by hand (the builder would verify it) so that invalid parameters reach verify().
Graph quantized_linear(DType dtype, const QuantParams& q) {
  Graph g;
  g.values.resize(3);
  g.values[0].name = "x";
  g.values[0].shape = {kDynamicDim, 96};
  g.values[1].name = "w";
  g.values[1].dtype = dtype;
  g.values[1].shape = {4, 96};
  g.values[1].data = bytes_of(storage_bytes(dtype, 4 * 96).value());
  g.values[1].quant = q;
  g.values[2].name = "fc";
  g.values[2].shape = {kDynamicDim, 4};
  qrt::testing::wire_single_linear(g);
  return g;
}

QuantParams per_channel_i8(std::vector<float> scales) {
  QuantParams q;
  q.scheme = QuantScheme::kSymmetricPerChannel;
  q.axis = 0;
  q.scales = std::move(scales);
  return q;
}

QuantParams nf4(int64_t block, size_t num_scales) {
  QuantParams q;
  q.scheme = QuantScheme::kNF4Block;
  q.block_size = block;
  q.scales.assign(num_scales, 0.75f);
  return q;
}

}  // namespace

TEST_CASE("the fixtures verify") {
  CHECK(verify(small_mlp()).is_ok());
  const Status s = verify(quantized_linear(DType::kI8, per_channel_i8({0.1f, 0.2f, 0.3f, 0.4f})));
  INFO(s.to_string());
  CHECK(s.is_ok());
  const Status n = verify(quantized_linear(DType::kNF4, nf4(32, 4 * 96 / 32)));
  INFO(n.to_string());
  CHECK(n.is_ok());
}

TEST_CASE("names") {
  Graph g = small_mlp();
  g.values[value_index(g, "fc")].name = "x";
  check_rejected(g, {"value name 'x' is used by more than one value"});
  g = small_mlp();
  g.nodes[1].name = "fc";
  check_rejected(g, {"node name 'fc' is used by more than one node"});
  g = small_mlp();
  g.values[value_index(g, "b")].name = "";
  check_rejected(g, {"has an empty name"});
  g = small_mlp();
  g.nodes[0].name = "";
  check_rejected(g, {"node 0 has an empty name"});
}

TEST_CASE("ids in range") {
  Graph g = small_mlp();
  g.nodes[0].inputs[1] = 42;
  check_rejected(g, {"node 'fc' (Linear): input 1: value id 42 is out of range"});
  g = small_mlp();
  g.nodes[1].outputs[0] = kNoValue;
  check_rejected(g, {"node 'act' (Relu): output 0: value id -1 is out of range"});
  g = small_mlp();
  g.outputs.push_back(7);
  check_rejected(g, {"graph output 1: value id 7"});
  g = small_mlp();
  g.inputs[0] = -3;
  check_rejected(g, {"graph input 0: value id -3"});
}

TEST_CASE("dataflow: producers, graph inputs and outputs") {
  Graph g = small_mlp();
  g.nodes[1].outputs[0] = g.nodes[0].outputs[0];  // act overwrites fc's output
  check_rejected(g, {"value 'fc'", "produced more than once", "'fc'", "'act'"});
  g = small_mlp();
  g.inputs.push_back(g.find_value("w"));
  check_rejected(g, {"graph input 'w' is a constant"});
  g = small_mlp();
  g.inputs.push_back(g.find_value("fc"));
  check_rejected(g, {"graph input 'fc' is produced by node 'fc'"});
  g = small_mlp();
  g.outputs.push_back(g.find_value("w"));
  check_rejected(g, {"graph output 'w' is neither produced by a node nor a graph input"});
  g = small_mlp();
  g.outputs.push_back(g.outputs[0]);
  check_rejected(g, {"graph output 'y' is listed more than once"});
  g = small_mlp();
  g.nodes[1].outputs[0] = g.find_value("b");
  check_rejected(g, {"node 'act' (Relu): output 'b' is a constant"});
}

TEST_CASE("cycle between two nodes") {
  // a = Add(x, b_out); b = Relu(a_out) -> b_out: each feeds the other.
  Graph g;
  for (const char* name : {"x", "a_out", "b_out"}) {
    Value v;
    v.name = name;
    v.shape = {3};
    g.values.push_back(v);
  }
  g.nodes = {qrt::testing::make_node("a", OpKind::kAdd, NoAttrs{}, {0, 2}, {1}),
             qrt::testing::make_node("b", OpKind::kRelu, NoAttrs{}, {1}, {2})};
  g.inputs = {0};
  g.outputs = {2};
  check_rejected(g, {"cycle through node '", "'a' -> 'b'"});
}

TEST_CASE("stored node order must be topological") {
  Graph g = small_mlp();
  std::swap(g.nodes[0], g.nodes[1]);
  check_rejected(g, {"node 'act' (Relu): consumes 'fc', produced by node 'fc' stored after it"});
}

TEST_CASE("attributes and arity") {
  Graph g = small_mlp();
  g.nodes[0].attrs = SliceAttrs{};
  check_rejected(g, {"node 'fc' (Linear): attributes have the wrong type"});
  g = small_mlp();
  g.nodes[1].inputs.push_back(g.find_value("x"));
  check_rejected(g, {"node 'act' (Relu): has 2 inputs, expected 1"});
  g = small_mlp();
  g.nodes[0].op = static_cast<OpKind>(200);
  check_rejected(g, {"node 'fc' (invalid): unknown op 200"});
}

TEST_CASE("LSTM input count and attributes") {
  frontends::GraphBuilder b;
  const int64_t h = 3;
  const ValueId x = b.input("x", {2, 5, 4});
  const ValueId w_ih = b.constant("w_ih", {4 * h, 4}, ramp(4 * h * 4));
  const ValueId w_hh = b.constant("w_hh", {4 * h, h}, ramp(4 * h * h));
  auto outs = b.lstm("rnn", x, h, {{w_ih, w_hh}});
  b.output(outs.y);
  Result<Graph> built = b.build();
  INFO(built.status().to_string());
  REQUIRE(built.is_ok());
  CHECK(verify(*built).is_ok());

  Graph g = *built;
  std::get<LstmAttrs>(g.nodes[0].attrs).num_layers = 2;
  check_rejected(g, {"node 'rnn' (LSTM): has 7 inputs, expected 3 + 4 * num_layers = 11"});
  g = *built;
  g.nodes[0].inputs.pop_back();
  check_rejected(g, {"node 'rnn' (LSTM): has 6 inputs, expected at least 7"});
  g = *built;
  std::get<LstmAttrs>(g.nodes[0].attrs).hidden_size = 0;
  check_rejected(g, {"node 'rnn' (LSTM): hidden_size 0 must be >= 1"});
  g = *built;
  std::get<LstmAttrs>(g.nodes[0].attrs).num_layers = 0;
  check_rejected(g, {"num_layers 0 must be >= 1"});
  g = *built;
  g.nodes[0].outputs.pop_back();
  check_rejected(g, {"node 'rnn' (LSTM): has 2 outputs, expected 3"});
}

TEST_CASE("constants") {
  Graph g = small_mlp();
  g.values[value_index(g, "w")].data = bytes_of(4 * 8 * 4 - 4);
  check_rejected(g, {"value 'w': constant holds 124 bytes, but f32 [4, 8] needs 128"});
  g = small_mlp();
  g.values[value_index(g, "w")].shape = {kDynamicDim, 8};
  check_rejected(g, {"value 'w': constant has a dynamic shape [?, 8]"});
  g = small_mlp();
  g.values[value_index(g, "w")].dtype = static_cast<DType>(17);
  check_rejected(g, {"value 'w': dtype 17 out of range"});
  g = small_mlp();
  g.values[value_index(g, "x")].shape = {-2, 8};
  check_rejected(g, {"value 'x': shape [-2, 8] has a negative dim"});
}

TEST_CASE("quantization parameters") {
  const float nan = std::nanf("");
  check_rejected(quantized_linear(DType::kI8, per_channel_i8({0.1f, nan, 0.3f, 0.4f})),
                 {"value 'w'", "scale 1 is nan, must be finite and > 0"});
  check_rejected(quantized_linear(DType::kI8, per_channel_i8({0.1f, 0.2f, 0.0f, 0.4f})),
                 {"value 'w'", "scale 2 is 0.000000, must be finite and > 0"});
  check_rejected(quantized_linear(DType::kI8, per_channel_i8({0.1f, 0.2f, INFINITY, 0.4f})),
                 {"scale 2 is inf"});
  check_rejected(quantized_linear(DType::kI8, per_channel_i8({0.1f, 0.2f, 0.3f})),
                 {"value 'w'", "has 3 scales, expected 4 (dim 0)"});
  QuantParams axis = per_channel_i8({0.1f, 0.2f, 0.3f, 0.4f});
  axis.axis = 2;
  check_rejected(quantized_linear(DType::kI8, axis), {"axis 2 out of range"});

  QuantParams zp;
  zp.scheme = QuantScheme::kAffinePerTensor;
  zp.scales = {0.5f};
  zp.zero_points = {200};
  check_rejected(quantized_linear(DType::kI8, zp), {"zero point 0 is 200, outside [-128, 127]"});
  QuantParams sym = per_channel_i8({0.1f, 0.2f, 0.3f, 0.4f});
  sym.zero_points = {0, 0, 3, 0};
  check_rejected(quantized_linear(DType::kI8, sym), {"symmetric schemes have zero points of 0"});
  QuantParams scheme;
  scheme.scheme = static_cast<QuantScheme>(9);
  check_rejected(quantized_linear(DType::kI8, scheme), {"scheme 9 out of range"});

  // NF4: 96 is not a multiple of 64; blocks of 32 need 4 * 96 / 32 = 12 absmax values.
  check_rejected(quantized_linear(DType::kNF4, nf4(64, 6)),
                 {"value 'w'", "block size 64 does not divide the last dim 96"});
  check_rejected(quantized_linear(DType::kNF4, nf4(48, 8)),
                 {"block size 48 is not a power of two"});
  check_rejected(quantized_linear(DType::kNF4, nf4(32, 11)),
                 {"has 11 absmax scales, expected one per block (12)"});
  QuantParams dq = nf4(32, 0);
  dq.double_quant = true;
  dq.absmax_codes.assign(12, 3);
  dq.group_size = 5;
  dq.group_scales = {0.1f, 0.2f};  // 12 blocks in groups of 5 need 3 group scales
  check_rejected(quantized_linear(DType::kNF4, dq), {"has 2 group scales, expected 3"});
  dq.group_scales = {0.1f, 0.2f, 0.3f};
  CHECK(verify(quantized_linear(DType::kNF4, dq)).is_ok());
  dq.absmax_codes.pop_back();
  check_rejected(quantized_linear(DType::kNF4, dq),
                 {"has 11 absmax codes, expected one per block"});
  check_rejected(quantized_linear(DType::kNF4, QuantParams{}),
                 {"nf4 tensor without nf4-block quantization parameters"});
}

TEST_CASE("stored types must agree with inference") {
  Graph g = small_mlp();
  g.values[value_index(g, "fc")].shape = {kDynamicDim, 5};
  check_rejected(g, {"value 'fc': stored shape [?, 5] but inference gives [?, 4]"});
  g = small_mlp();
  g.values[value_index(g, "fc")].shape = {};  // not recorded: re-derived
  CHECK(verify(g).is_ok());
  g.values[value_index(g, "fc")].shape = {kDynamicDim, kDynamicDim};  // wildcards
  CHECK(verify(g).is_ok());
  g.values[value_index(g, "y")].dtype = DType::kF16;
  check_rejected(g, {"value 'y': stored dtype f16 but inference gives f32"});
  g = small_mlp();
  g.values[value_index(g, "w")].shape = {4, 9};
  g.values[value_index(g, "w")].data = bytes_of(4 * 9 * 4);
  check_rejected(g, {"node 'fc' (Linear): x has shape [?, 8]: dim 1 must be 9"});
}
