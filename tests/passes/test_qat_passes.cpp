// insert_fake_quant and convert_qat (ir/passes/passes.h): where FakeQuant nodes go and with which
// initial parameters, that layers the policy keeps stay unfaked, and that the converted graph's
// outputs (run with the ordinary Session and CPU kernels) equal the QAT graph's outputs to within
// one output quantization step, with "learned" parameters that differ from the initial ones.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "ir/passes/passes.h"
#include "ir/quantize.h"
#include "ir/serialize.h"
#include "ops/register.h"
#include "runtime/calibration.h"
#include "runtime/kernel_registry.h"
#include "runtime/session.h"
#include "tests/passes/pass_fixtures.h"
#include "tests/support/random.h"

namespace qrt {
namespace {

using passes_test::input_of;
using passes_test::node;
using passes_test::value;

constexpr int64_t kBatch = 9;

runtime::Tensor random_input(const ir::Graph& g, int64_t batch, uint64_t seed) {
  ir::Shape shape = g.values[static_cast<size_t>(g.inputs[0])].shape;
  shape[0] = batch;
  Result<runtime::Tensor> t = runtime::Tensor::allocate(ir::DType::kF32, shape);
  REQUIRE(t.is_ok());
  const std::vector<float> data = testing::random_normal(static_cast<size_t>(t->numel()), seed);
  std::copy(data.begin(), data.end(), t->span<float>().begin());
  return std::move(t).value();
}

ir::CalibrationTable calibration_table(const ir::Graph& g, uint64_t seed) {
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  std::vector<runtime::Tensor> inputs;
  std::vector<std::vector<runtime::NamedTensor>> batches;
  for (int b = 0; b < 3; ++b) inputs.push_back(random_input(g, kBatch, seed + b));
  for (const runtime::Tensor& t : inputs) batches.push_back({{"x", t.view()}});
  runtime::CalibrationOptions options;
  options.progress = false;
  Result<ir::CalibrationTable> table =
      runtime::calibrate(std::make_shared<const ir::Graph>(g), registry, batches, options);
  INFO(table.status().to_string());
  REQUIRE(table.is_ok());
  return std::move(table).value();
}

// The single output of `g` for input `x`, run by a strict Session on the CPU kernels.
std::vector<float> run(const ir::Graph& g, const runtime::Tensor& x) {
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  auto session = runtime::Session::create(std::make_shared<const ir::Graph>(g), registry,
                                          {runtime::Device::kCpu, true});
  INFO(session.status().to_string());
  REQUIRE(session.is_ok());
  auto out = (*session)->run({{"x", x.view()}});
  INFO(out.status().to_string());
  REQUIRE(out.is_ok());
  const auto y = (*out)[0].span<const float>();
  return {y.begin(), y.end()};
}

ir::Graph checked(Result<ir::Graph> g) {
  INFO(g.status().to_string());
  REQUIRE(g.is_ok());
  const Status s = ir::verify(*g);
  INFO(s.to_string());
  REQUIRE(s.is_ok());
  return std::move(g).value();
}

const ir::Node* fake_quant_reading(const ir::Graph& g, const std::string& value_name) {
  const ir::ValueId id = g.find_value(value_name);
  for (const ir::Node& n : g.nodes)
    if (n.op == ir::OpKind::kFakeQuant && n.inputs[0] == id) return &n;
  return nullptr;
}

std::vector<float> floats_of(const ir::Graph& g, ir::ValueId id) {
  const auto d = g.values[static_cast<size_t>(id)].data->as<float>();
  return {d.begin(), d.end()};
}

// Emulates training: every scale of every FakeQuant multiplied by a factor in [0.8, 1.25), so that
// a convert that recomputed scales from the float values would be caught.
ir::Graph perturb_scales(ir::Graph g, uint64_t seed) {
  for (ir::Node& n : g.nodes) {
    if (n.op != ir::OpKind::kFakeQuant || n.inputs.size() < 2) continue;
    ir::Value& s = g.values[static_cast<size_t>(n.inputs[1])];
    std::vector<float> scales = floats_of(g, n.inputs[1]);
    const std::vector<float> f = testing::random_floats(scales.size(), ++seed, 0.8f, 1.25f);
    for (size_t i = 0; i < scales.size(); ++i) scales[i] *= f[i];
    s.data = ir::ConstantData::copy_of(scales.data(), scales.size() * sizeof(float)).value();
  }
  return g;
}

// One output quantization step: the int8 per-tensor step of the reference output's range.
float output_step(const std::vector<float>& y) {
  return testing::max_abs(y) / 127.0f;
}

void check_within_steps(const std::vector<float>& converted, const std::vector<float>& qat,
                        float steps = 1.0f) {
  REQUIRE(converted.size() == qat.size());
  const float step = output_step(qat);
  const float diff = testing::max_abs_diff(converted, qat);
  MESSAGE("max |converted - qat| = " << diff << ", one output step = " << step);
  CHECK(step > 0.0f);
  CHECK(diff <= steps * step);
}

ir::passes::PrecisionPolicy quantize_all() {
  ir::passes::PrecisionPolicy p;
  p.keep_first = false;
  p.keep_last = false;
  return p;
}

TEST_CASE("insert_fake_quant int8: weights per channel, inputs per tensor, kept layers unfaked") {
  const ir::Graph g = passes_test::mlp();
  const ir::CalibrationTable table = calibration_table(g, passes_test::kSeed + 1);
  const ir::Graph qat = checked(ir::passes::insert_fake_quant(g, table));
  const ir::Graph st = checked(ir::passes::quantize_static(g, table));

  for (const char* layer : {"fc2", "fc3"}) {
    INFO(layer);
    const std::string name = layer;
    // Weight: FakeQuant per channel (axis 0), symmetric 8 bits, initial scales = the int8 pass's.
    const ir::Node* wq = fake_quant_reading(qat, name + ".weight");
    REQUIRE(wq != nullptr);
    const auto& wa = std::get<ir::FakeQuantAttrs>(wq->attrs);
    CHECK(wa.bits == 8);
    CHECK(wa.symmetric);
    CHECK(wa.per_channel);
    CHECK(wa.axis == 0);
    CHECK(wa.learnable_scale);
    CHECK(node(qat, name).inputs[1] == wq->outputs[0]);
    CHECK(floats_of(qat, wq->inputs[1]) == input_of(st, name, 1).quant->scales);
    // Input x: FakeQuant per tensor with quantize_static's parameters.
    const std::string x = input_of(g, name, 0).name;
    const ir::Node* xq = fake_quant_reading(qat, x);
    REQUIRE(xq != nullptr);
    CHECK(!std::get<ir::FakeQuantAttrs>(xq->attrs).per_channel);
    CHECK(node(qat, name).inputs[0] == xq->outputs[0]);
    CHECK(floats_of(qat, xq->inputs[1]) == value(st, x).quant->scales);
    CHECK(node(qat, name).precision.precision == "fp32");
    CHECK(qat.metadata.at("qat.precision." + name) == "int8-static");
  }
  // The policy keeps fc1 (first) and head (last) in fp16: no FakeQuant, f32 weights, the reason.
  for (const char* kept : {"fc1", "head"}) {
    INFO(kept);
    CHECK(fake_quant_reading(qat, std::string(kept) + ".weight") == nullptr);
    CHECK(input_of(qat, kept, 1).dtype == ir::DType::kF32);
    CHECK(input_of(qat, kept, 0).name == input_of(g, kept, 0).name);
    CHECK(node(qat, kept).precision.precision == "fp32");
    CHECK(node(qat, kept).precision.reason.find("kept fp16") != std::string::npos);
    CHECK(qat.metadata.at(std::string("qat.precision.") + kept) == "fp16");
  }
  // The relu output read by fc2 is faked for fc2 only; 2 weights + 2 inputs in all.
  int fake_quants = 0;
  for (const ir::Node& n : qat.nodes) fake_quants += n.op == ir::OpKind::kFakeQuant;
  CHECK(fake_quants == 4);
}

TEST_CASE("convert_qat int8 on an MLP: learned parameters, outputs within one step") {
  const ir::Graph g = passes_test::mlp();
  const ir::CalibrationTable table = calibration_table(g, passes_test::kSeed + 2);
  for (bool symmetric : {true, false}) {
    INFO("symmetric activations " << symmetric);
    ir::passes::QatOptions options;
    options.policy = quantize_all();
    options.symmetric = symmetric;
    const ir::Graph qat = perturb_scales(checked(ir::passes::insert_fake_quant(g, table, options)),
                                         passes_test::kSeed + 3);
    const ir::Graph converted = checked(ir::passes::convert_qat(qat));
    for (const ir::Node& n : converted.nodes) {
      CHECK(n.op != ir::OpKind::kFakeQuant);
      if (n.op == ir::OpKind::kLinear) CHECK(n.precision.precision == "int8-static");
    }
    // Weights: int8 codes with the FakeQuant's own scales.
    const ir::Node* wq = fake_quant_reading(qat, "fc3.weight");
    REQUIRE(wq != nullptr);
    const std::vector<float> learned = floats_of(qat, wq->inputs[1]);
    const ir::Value& w8 = input_of(converted, "fc3", 1);
    REQUIRE(w8.dtype == ir::DType::kI8);
    CHECK(w8.quant->scales == learned);
    const auto codes = w8.data->as<int8_t>();
    const auto w = value(g, "fc3.weight").data->as<float>();
    const int64_t k = value(g, "fc3.weight").shape[1];
    for (size_t i = 0; i < codes.size(); ++i) {
      const float want =
          std::fmax(-127.0f, std::fmin(127.0f, std::nearbyint(w[i] / learned[i / k])));
      if (codes[i] != static_cast<int8_t>(want)) {
        FAIL_CHECK("code " << i << " is " << int(codes[i]) << ", want " << want);
        break;
      }
    }
    // Activations: the learned scale of the FakeQuant on fc2's input.
    const std::string x = input_of(g, "fc2", 0).name;
    const ir::Node* xq = fake_quant_reading(qat, x);
    REQUIRE(xq != nullptr);
    CHECK(value(converted, x).quant->scales == floats_of(qat, xq->inputs[1]));

    const runtime::Tensor input = random_input(g, kBatch, passes_test::kSeed + 4);
    check_within_steps(run(converted, input), run(qat, input));
  }
}

TEST_CASE("convert_qat with the default policy: kept layers convert to fp16") {
  const ir::Graph g = passes_test::mlp();
  const ir::CalibrationTable table = calibration_table(g, passes_test::kSeed + 5);
  const ir::Graph qat = checked(ir::passes::insert_fake_quant(g, table));
  const ir::Graph converted = checked(ir::passes::convert_qat(qat));
  CHECK(node(converted, "fc1").precision.precision == "fp16");
  CHECK(node(converted, "head").precision.precision == "fp16");
  CHECK(node(converted, "fc1").precision.reason.find("kept fp16") != std::string::npos);
  CHECK(node(converted, "fc2").precision.precision == "int8-static");
  CHECK(converted.metadata.count("qat.mode") == 0);
  const runtime::Tensor input = random_input(g, kBatch, passes_test::kSeed + 6);
  check_within_steps(run(converted, input), run(qat, input));
}

TEST_CASE("convert_qat int8 on a small LSTM model: outputs within one step") {
  const ir::Graph g = passes_test::lstm_model();
  const ir::CalibrationTable table = calibration_table(g, passes_test::kSeed + 7);
  ir::passes::QatOptions options;
  options.policy = quantize_all();
  const ir::Graph qat = perturb_scales(checked(ir::passes::insert_fake_quant(g, table, options)),
                                       passes_test::kSeed + 8);
  // x of the LSTM, its 4 weight matrices, head's weight and head's input.
  int fake_quants = 0;
  for (const ir::Node& n : qat.nodes) fake_quants += n.op == ir::OpKind::kFakeQuant;
  CHECK(fake_quants == 7);
  // The int8-static LSTM kernel rounds h_{t-1} (and layer 1's input sequence) to the grid 1/127
  // inside the op; the QAT LSTM simulates that rounding, the converted one leaves it to the kernel.
  CHECK(std::get<ir::LstmAttrs>(node(qat, "lstm").attrs).hidden_fake_quant);
  const ir::Graph converted = checked(ir::passes::convert_qat(qat));
  CHECK(node(converted, "lstm").precision.precision == "int8-static");
  CHECK(node(converted, "head").precision.precision == "int8-static");
  CHECK(!std::get<ir::LstmAttrs>(node(converted, "lstm").attrs).hidden_fake_quant);
  const runtime::Tensor input = random_input(g, kBatch, passes_test::kSeed + 9);
  check_within_steps(run(converted, input), run(qat, input));
}

TEST_CASE("NF4 QAT leaves the LSTM hidden state unrounded (weights only)") {
  const ir::Graph g = passes_test::lstm_model();
  ir::passes::QatOptions options;
  options.mode = ir::passes::QatMode::kNF4;
  options.policy = quantize_all();
  options.nf4_block_size = 32;  // the LSTM's reductions are 32 long
  const ir::Graph qat = checked(ir::passes::insert_fake_quant(g, {}, options));
  int lstm_weight_fake_quants = 0;
  for (const ir::Node& n : qat.nodes)
    lstm_weight_fake_quants +=
        n.op == ir::OpKind::kFakeQuant &&
        qat.values[static_cast<size_t>(n.inputs[0])].name.rfind("lstm.", 0) == 0;
  CHECK(lstm_weight_fake_quants == 4);  // the LSTM is fake-quantized, its hidden state is not
  CHECK(!std::get<ir::LstmAttrs>(node(qat, "lstm").attrs).hidden_fake_quant);
}

TEST_CASE("NF4 QAT: weights only; convert gives the NF4 graph of the trained weights") {
  const ir::Graph g = passes_test::mlp();
  ir::passes::QatOptions options;
  options.mode = ir::passes::QatMode::kNF4;
  options.nf4_block_size = 32;
  const ir::Graph qat = checked(ir::passes::insert_fake_quant(g, {}, options));
  int fake_quants = 0;
  for (const ir::Node& n : qat.nodes)
    if (n.op == ir::OpKind::kFakeQuant) {
      ++fake_quants;
      CHECK(std::get<ir::FakeQuantAttrs>(n.attrs).mode == ir::FakeQuantMode::kNF4);
      CHECK(qat.values[static_cast<size_t>(n.inputs[0])].is_constant());  // weights only
    }
  CHECK(fake_quants == 2);  // fc2, fc3 (fc1 and head kept by the default policy)
  const ir::Graph converted = checked(ir::passes::convert_qat(qat));
  const ir::Graph direct = checked(ir::passes::quantize_nf4(g, {{}, 32, true}));
  for (const char* layer : {"fc2", "fc3"}) {
    INFO(layer);
    CHECK(node(converted, layer).precision.precision == "nf4");
    CHECK(input_of(converted, layer, 1).data == input_of(direct, layer, 1).data);
    CHECK(input_of(converted, layer, 1).quant == input_of(direct, layer, 1).quant);
  }
  const runtime::Tensor input = random_input(g, kBatch, passes_test::kSeed + 10);
  check_within_steps(run(converted, input), run(qat, input));
}

TEST_CASE("a QAT graph survives save -> load and still converts") {
  const ir::Graph g = passes_test::mlp();
  const ir::CalibrationTable table = calibration_table(g, passes_test::kSeed + 11);
  const ir::Graph qat = checked(ir::passes::insert_fake_quant(g, table));
  Result<std::vector<std::byte>> bytes = ir::serialize_model(qat);
  REQUIRE(bytes.is_ok());
  auto owner = std::shared_ptr<std::byte[]>(
      new (std::align_val_t(ir::kWeightAlignment)) std::byte[bytes->size()],
      [](std::byte* p) { ::operator delete[](p, std::align_val_t(ir::kWeightAlignment)); });
  std::copy(bytes->begin(), bytes->end(), owner.get());
  Result<ir::Graph> loaded = ir::load_model_from_memory(owner.get(), bytes->size(), owner);
  INFO(loaded.status().to_string());
  REQUIRE(loaded.is_ok());
  const ir::Graph converted = checked(ir::passes::convert_qat(*loaded));
  CHECK(node(converted, "fc2").precision.precision == "int8-static");
}

TEST_CASE("bad input gives a clear Status") {
  const ir::Graph g = passes_test::mlp();
  ir::CalibrationTable table = calibration_table(g, passes_test::kSeed + 12);
  const std::string x = input_of(g, "fc3", 0).name;
  table.ranges.erase(x);
  Result<ir::Graph> r = ir::passes::insert_fake_quant(g, table);
  REQUIRE(!r.is_ok());
  INFO(r.status().message());
  CHECK(r.status().message().find("insert_fake_quant") != std::string::npos);
  CHECK(r.status().message().find("'fc3'") != std::string::npos);
  CHECK(r.status().message().find("'" + x + "'") != std::string::npos);

  // A faked layer whose input FakeQuant was removed: the learned activation scale is missing.
  table = calibration_table(g, passes_test::kSeed + 13);
  ir::Graph qat = checked(ir::passes::insert_fake_quant(g, table));
  const ir::Node* xq = fake_quant_reading(qat, x);
  REQUIRE(xq != nullptr);
  for (ir::Node& n : qat.nodes)
    for (ir::ValueId& id : n.inputs)
      if (n.op != ir::OpKind::kFakeQuant && id == xq->outputs[0]) id = xq->inputs[0];
  r = ir::passes::convert_qat(qat);
  REQUIRE(!r.is_ok());
  INFO(r.status().message());
  CHECK(r.status().message().find("node 'fc3' (Linear)") != std::string::npos);
  CHECK(r.status().message().find("has no FakeQuant") != std::string::npos);
}

}  // namespace
}  // namespace qrt
