#include "tests/format/sample_graphs.h"

#include <doctest/doctest.h>

#include <climits>
#include <cstring>
#include <random>
#include <string>
#include <utility>

#include "ir/quant_formats.h"
#include "tests/support/random.h"

namespace qrt::testing {

namespace {

using ir::DType;
using ir::OpKind;
using ir::Shape;
using ir::ValueId;

// Bytes of a constant: random, so that a misplaced or truncated weight cannot compare equal.
std::vector<std::byte> random_bytes(std::size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<std::byte> v(n);
  for (auto& b : v) b = static_cast<std::byte>(byte(rng));
  return v;
}

// Appends values and nodes to a Graph by hand, as a file reader would see them.
class GraphMaker {
 public:
  explicit GraphMaker(uint64_t seed) : seed_(seed) {}

  ValueId input(const std::string& name, Shape shape, DType dtype = DType::kF32) {
    const ValueId id = value(name, dtype, std::move(shape));
    graph_.inputs.push_back(id);
    return id;
  }

  ValueId value(const std::string& name, DType dtype, Shape shape) {
    ir::Value v;
    v.name = name;
    v.dtype = dtype;
    v.shape = std::move(shape);
    graph_.values.push_back(std::move(v));
    return static_cast<ValueId>(graph_.values.size() - 1);
  }

  // A constant of any dtype holding random bytes of the size dtype × shape needs.
  ValueId constant(const std::string& name, DType dtype, Shape shape,
                   std::optional<ir::QuantParams> quant = {}) {
    const std::size_t bytes = ir::storage_bytes(dtype, ir::numel(shape)).value();
    const auto data = random_bytes(bytes, seed_ + graph_.values.size());
    const ValueId id = value(name, dtype, std::move(shape));
    graph_.values[static_cast<std::size_t>(id)].data =
        ir::ConstantData::copy_of(data.data(), data.size()).value();
    graph_.values[static_cast<std::size_t>(id)].quant = std::move(quant);
    return id;
  }

  // f32 constant with uniform values in [-1, 1).
  ValueId f32_constant(const std::string& name, Shape shape) {
    const auto values =
        random_floats(static_cast<std::size_t>(ir::numel(shape)), seed_ + graph_.values.size());
    const ValueId id = value(name, DType::kF32, std::move(shape));
    graph_.values[static_cast<std::size_t>(id)].data =
        ir::ConstantData::copy_of(values.data(), values.size() * sizeof(float)).value();
    return id;
  }

  // Adds a node whose outputs are new f32 values named like `outputs` with the given shape hints;
  // returns the id of the first output.
  ValueId node(const std::string& name, OpKind op, ir::Attrs attrs, std::vector<ValueId> inputs,
               std::vector<std::pair<std::string, Shape>> outputs,
               ir::PrecisionRecord precision = {}) {
    ir::Node n;
    n.name = name;
    n.op = op;
    n.attrs = std::move(attrs);
    n.inputs = std::move(inputs);
    for (auto& [out_name, shape] : outputs)
      n.outputs.push_back(value(out_name, DType::kF32, std::move(shape)));
    n.precision = std::move(precision);
    graph_.nodes.push_back(std::move(n));
    return graph_.nodes.back().outputs.front();
  }

  ValueId node(const std::string& name, OpKind op, ir::Attrs attrs, std::vector<ValueId> inputs,
               Shape output_shape, ir::PrecisionRecord precision = {}) {
    return node(name, op, std::move(attrs), std::move(inputs), {{name, std::move(output_shape)}},
                std::move(precision));
  }

  ir::Graph& graph() { return graph_; }

 private:
  uint64_t seed_;
  ir::Graph graph_;
};

constexpr int64_t kBatch = ir::kDynamicDim;

ir::QuantParams symmetric_per_channel(std::size_t channels, uint64_t seed) {
  ir::QuantParams q;
  q.scheme = ir::QuantScheme::kSymmetricPerChannel;
  q.axis = 0;
  q.scales = random_floats(channels, seed, 0.001f, 0.1f);
  return q;
}

}  // namespace

ir::Graph every_op_graph(uint64_t seed) {
  GraphMaker m(seed);
  constexpr int64_t kT = 5, kC = 6, kH = 32, kFc1 = 8, kFc2 = 6;
  const ValueId x = m.input("x", {kBatch, kT, kC});

  // LSTM with an int8 per-channel input weight, an f16 recurrent weight, one bias, no h0/c0.
  const ValueId w_ih =
      m.constant("lstm.w_ih", DType::kI8, {4 * kH, kC}, symmetric_per_channel(4 * kH, seed + 100));
  const ValueId w_hh = m.constant("lstm.w_hh", DType::kF16, {4 * kH, kH});
  const ValueId b_ih = m.f32_constant("lstm.b_ih", {4 * kH});
  const ValueId y = m.node(
      "lstm", OpKind::kLSTM, ir::LstmAttrs{kH, 1},
      {x, ir::kNoValue, ir::kNoValue, w_ih, w_hh, b_ih, ir::kNoValue},
      {{"lstm", {kBatch, kT, kH}}, {"lstm.h_n", {1, kBatch, kH}}, {"lstm.c_n", {1, kBatch, kH}}},
      {"w8a16", "int8 weights, float activations"});
  const ValueId h_n = y + 1;

  const ValueId last =
      m.node("last", OpKind::kSlice, ir::SliceAttrs{1, -1, INT64_MAX, 1, true}, {y}, {kBatch, kH});
  const ValueId gamma = m.f32_constant("ln.gamma", {kH});
  const ValueId beta = m.f32_constant("ln.beta", {kH});
  const ValueId ln = m.node("ln", OpKind::kLayerNorm, ir::LayerNormAttrs{1e-5f},
                            {last, gamma, beta}, {kBatch, kH});
  // A static-int8 calibration annotation on an activation.
  ir::QuantParams act;
  act.scheme = ir::QuantScheme::kAffinePerTensor;
  act.scales = {0.0625f};
  act.zero_points = {3};
  m.graph().values[static_cast<std::size_t>(ln)].quant = act;

  // NF4 weight [8, 32], block 32 -> 8 blocks, double quantized into one group of 256 blocks.
  ir::QuantParams nf4;
  nf4.scheme = ir::QuantScheme::kNF4Block;
  nf4.block_size = ir::kNF4MinBlock;
  nf4.double_quant = true;
  for (int b = 0; b < kFc1 * kH / ir::kNF4MinBlock; ++b)
    nf4.absmax_codes.push_back(static_cast<int8_t>(random_int(seed + 200 + b, -128, 127)));
  nf4.group_scales = {0.0123f};
  nf4.absmax_offset = 0.5f;
  nf4.group_size = ir::kNF4DoubleQuantGroup;
  const ValueId fc1_w = m.constant("fc1.weight", DType::kNF4, {kFc1, kH}, nf4);
  const ValueId fc1_b = m.f32_constant("fc1.bias", {kFc1});
  const ValueId fc1 = m.node("fc1", OpKind::kLinear, ir::LinearAttrs{}, {ln, fc1_w, fc1_b},
                             {kBatch, kFc1}, {"nf4", "weight-only NF4 (QLoRA)"});
  const ValueId gelu = m.node("gelu", OpKind::kGelu, ir::GeluAttrs{true}, {fc1}, {kBatch, kFc1});
  const ValueId fc2_w = m.constant("fc2.weight", DType::kBF16, {kFc2, kFc1});
  const ValueId fc2 = m.node("fc2", OpKind::kLinear, ir::LinearAttrs{}, {gelu, fc2_w, ir::kNoValue},
                             {kBatch, kFc2}, {"bf16", ""});
  const ValueId leaky =
      m.node("leaky", OpKind::kLeakyRelu, ir::LeakyReluAttrs{0.125f}, {fc2}, {kBatch, kFc2});
  const ValueId add_b = m.f32_constant("add.b", {kFc2});
  const ValueId add = m.node("add", OpKind::kAdd, ir::NoAttrs{}, {leaky, add_b}, {kBatch, kFc2});
  const ValueId silu = m.node("silu", OpKind::kSilu, ir::NoAttrs{}, {add}, {kBatch, kFc2});
  const ValueId sig = m.node("sigmoid", OpKind::kSigmoid, ir::NoAttrs{}, {silu}, {kBatch, kFc2});
  const ValueId tanh = m.node("tanh", OpKind::kTanh, ir::NoAttrs{}, {sig}, {kBatch, kFc2});
  const ValueId relu = m.node("relu", OpKind::kRelu, ir::NoAttrs{}, {tanh}, {kBatch, kFc2});
  const ValueId sub_b = m.f32_constant("sub.b", {1});
  const ValueId sub = m.node("sub", OpKind::kSub, ir::NoAttrs{}, {relu, sub_b}, {kBatch, kFc2});
  const ValueId mul = m.node("mul", OpKind::kMul, ir::NoAttrs{}, {sub, sig}, {kBatch, kFc2});
  const ValueId reshape =
      m.node("reshape", OpKind::kReshape, ir::ReshapeAttrs{{0, 2, 3}}, {mul}, {kBatch, 2, 3});
  const ValueId transpose = m.node("transpose", OpKind::kTranspose, ir::TransposeAttrs{{0, 2, 1}},
                                   {reshape}, {kBatch, 3, 2});
  const ValueId concat =
      m.node("concat", OpKind::kConcat, ir::ConcatAttrs{1}, {transpose, transpose}, {kBatch, 6, 2});

  // FakeQuant (QAT): affine per channel with learnable scale / zero point, and NF4 on a weight;
  // attributes away from their defaults so that every field is written.
  const std::vector<float> fq_scales = {0.5f, 0.25f, 0.125f, 1.0f, 2.0f, 0.75f};
  const std::vector<float> fq_zero_points = {0.0f, -3.0f, 5.0f, 1.0f, -16.0f, 15.0f};
  const ValueId fq_scale = m.value("fq.scale", DType::kF32, {6});
  const ValueId fq_zero_point = m.value("fq.zero_point", DType::kF32, {6});
  m.graph().values[static_cast<std::size_t>(fq_scale)].data =
      ir::ConstantData::copy_of(fq_scales.data(), fq_scales.size() * sizeof(float)).value();
  m.graph().values[static_cast<std::size_t>(fq_zero_point)].data =
      ir::ConstantData::copy_of(fq_zero_points.data(), fq_zero_points.size() * sizeof(float))
          .value();
  ir::FakeQuantAttrs fq_affine;
  fq_affine.bits = 5;
  fq_affine.symmetric = false;
  fq_affine.per_channel = true;
  fq_affine.axis = -2;
  fq_affine.learnable_scale = true;
  const ValueId fq = m.node("fq", OpKind::kFakeQuant, fq_affine, {concat, fq_scale, fq_zero_point},
                            {kBatch, 6, 2}, {"fp32", "quantization-aware training"});
  ir::FakeQuantAttrs fq_nf4;
  fq_nf4.mode = ir::FakeQuantMode::kNF4;
  fq_nf4.block_size = ir::kNF4MinBlock;
  fq_nf4.double_quant = false;
  const ValueId fq_w = m.f32_constant("fq_nf4.weight", {2, 64});
  const ValueId fq_nf4_out =
      m.node("fq_nf4", OpKind::kFakeQuant, fq_nf4, {fq_w, ir::kNoValue, ir::kNoValue}, {2, 64});

  // Constants no node reads, for the dtypes the ops above do not take.
  ir::QuantParams affine;
  affine.scheme = ir::QuantScheme::kAffinePerChannel;
  affine.axis = 0;
  affine.scales = {0.5f, 0.25f, 0.125f};
  affine.zero_points = {0, 128, 255};
  m.constant("table.u8", DType::kU8, {3, 7}, affine);
  m.constant("table.i32", DType::kI32, {7});
  m.f32_constant("scalar.f32", {});
  m.f32_constant("empty.f32", {0});

  ir::Graph& g = m.graph();
  g.outputs = {fq, h_n, fq_nf4_out};
  g.metadata = {{"producer", "qrt format tests"},
                {"description", "every op, every dtype"},
                {"z.unicode",
                 "\xc3\xbc"
                 "n"
                 "\xc3\xaf"
                 "c"
                 "\xc3\xb6"
                 "d"
                 "\xc3\xa9"}};
  return std::move(g);
}

ir::Graph tiny_linear_graph(uint64_t seed) {
  GraphMaker m(seed);
  const ValueId x = m.input("x", {kBatch, 4});
  const ValueId w = m.f32_constant("fc.weight", {3, 4});
  const ValueId b = m.f32_constant("fc.bias", {3});
  const ValueId h = m.node("fc", OpKind::kLinear, ir::LinearAttrs{}, {x, w, b}, {kBatch, 3});
  const ValueId y = m.node("act", OpKind::kRelu, ir::NoAttrs{}, {h}, {kBatch, 3});
  m.graph().outputs = {y};
  return std::move(m.graph());
}

void check_graphs_equal(const ir::Graph& a, const ir::Graph& b) {
  REQUIRE(a.values.size() == b.values.size());
  for (std::size_t i = 0; i < a.values.size(); ++i) {
    const ir::Value& va = a.values[i];
    const ir::Value& vb = b.values[i];
    INFO("value #" << i << " '" << va.name << "'");
    CHECK(va.name == vb.name);
    CHECK(va.dtype == vb.dtype);
    CHECK(va.shape == vb.shape);
    REQUIRE(va.data.has_value() == vb.data.has_value());
    if (va.data) {
      CHECK(va.data->size() == vb.data->size());
      CHECK(*va.data == *vb.data);
    }
    REQUIRE(va.quant.has_value() == vb.quant.has_value());
    if (va.quant) CHECK(*va.quant == *vb.quant);
  }
  REQUIRE(a.nodes.size() == b.nodes.size());
  for (std::size_t j = 0; j < a.nodes.size(); ++j) {
    const ir::Node& na = a.nodes[j];
    const ir::Node& nb = b.nodes[j];
    INFO("node #" << j << " '" << na.name << "'");
    CHECK(na.name == nb.name);
    CHECK(na.op == nb.op);
    CHECK(na.attrs == nb.attrs);
    CHECK(na.inputs == nb.inputs);
    CHECK(na.outputs == nb.outputs);
    CHECK(na.precision == nb.precision);
  }
  CHECK(a.inputs == b.inputs);
  CHECK(a.outputs == b.outputs);
  CHECK(a.metadata == b.metadata);
}

}  // namespace qrt::testing
