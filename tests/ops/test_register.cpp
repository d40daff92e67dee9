// register_cpu_kernels: one f32 reference entry per op (plus the quantized Linear/LSTM entries,
// which test_quantized_*.cpp cover), and the f32 `supports` only for plain f32 nodes.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "ir/precision.h"
#include "ops/register.h"
#include "tests/ops/op_harness.h"

namespace qrt::testing {
namespace {

TEST_CASE("Registry: every op has exactly one f32 CPU reference kernel") {
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  std::set<ir::OpKind> seen;
  std::set<std::string> quantized;
  for (const runtime::KernelEntry& e : registry.entries()) {
    INFO(e.name);
    CHECK(e.device == runtime::Device::kCpu);
    CHECK(e.name.rfind("cpu.reference.", 0) == 0);
    REQUIRE(e.create);
    CHECK(e.create() != nullptr);
    // Quantized kernels carry their precision: "cpu.reference.linear.int8-dynamic".
    const std::size_t dot = e.name.find('.', std::string("cpu.reference.").size());
    if (dot != std::string::npos) {
      // ... or a kernel on the int8 codes of a static int8 chain: "cpu.reference.relu.int8".
      const bool on_codes =
          e.name.ends_with(".int8") && (e.op == ir::OpKind::kRelu || e.op == ir::OpKind::kReshape);
      CHECK((e.op == ir::OpKind::kLinear || e.op == ir::OpKind::kLSTM || on_codes));
      CHECK(quantized.insert(e.name).second);
      // Registered before the f32 kernel of the op, so the specialised entry is found first.
      CHECK(seen.count(e.op) == 0);
      continue;
    }
    CHECK(seen.insert(e.op).second);
  }
  CHECK(seen.size() == static_cast<std::size_t>(ir::kNumOpKinds));
  // fp16, bf16, w8a16, int8-dynamic, int8-static, nf4 for Linear and LSTM; the static int8 chain
  // kernels (ops/quantized/int8_chain_kernels.h): Linear, Relu and Reshape.
  CHECK(quantized.size() == 2 * (ir::kNumPrecisions - 1) + 3);
}

TEST_CASE("Registry: supports accepts f32 and rejects f16, quantized tensors or records") {
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  OpCase c{ir::OpKind::kLinear,
           ir::LinearAttrs{},
           {random_tensor({2, 3}, 1), random_tensor({4, 3}, 2)},
           {{2, 4}}};
  c.node_name = "fc";
  const ir::Graph f32 = one_node_graph(c);
  const runtime::KernelEntry* entry = registry.find(f32, f32.nodes[0], runtime::Device::kCpu);
  REQUIRE(entry != nullptr);
  CHECK(entry->name == "cpu.reference.linear");
  CHECK(registry.find(f32, f32.nodes[0], runtime::Device::kCuda) == nullptr);

  ir::Graph f16_weight = f32;
  f16_weight.values[f16_weight.nodes[0].inputs[1]].dtype = ir::DType::kF16;
  CHECK_FALSE(entry->supports(f16_weight, f16_weight.nodes[0]));
  CHECK(registry.find(f16_weight, f16_weight.nodes[0], runtime::Device::kCpu) == nullptr);

  ir::Graph int8_weight = f32;
  ir::Value& w = int8_weight.values[int8_weight.nodes[0].inputs[1]];
  w.dtype = ir::DType::kI8;
  w.quant = ir::QuantParams{};
  w.quant->scheme = ir::QuantScheme::kSymmetricPerChannel;
  w.quant->scales = {0.1f, 0.1f, 0.1f, 0.1f};
  CHECK_FALSE(entry->supports(int8_weight, int8_weight.nodes[0]));

  // A calibration annotation (per-tensor parameters on a non-constant f32 activation, the
  // int8-static form of ir/precision.h) leaves the data float: the f32 kernel still reads it.
  ir::Graph annotated = f32;
  ir::QuantParams per_tensor;
  per_tensor.scheme = ir::QuantScheme::kSymmetricPerTensor;
  per_tensor.scales = {0.5f};
  annotated.values[annotated.nodes[0].inputs[0]].quant = per_tensor;
  CHECK(entry->supports(annotated, annotated.nodes[0]));

  ir::Graph per_channel_f32 = f32;  // f32 storage with per-channel parameters: not plain f32
  ir::QuantParams per_channel;
  per_channel.scheme = ir::QuantScheme::kSymmetricPerChannel;
  per_channel.scales = {0.5f, 0.5f};
  per_channel_f32.values[per_channel_f32.nodes[0].inputs[0]].quant = per_channel;
  CHECK_FALSE(entry->supports(per_channel_f32, per_channel_f32.nodes[0]));

  ir::Graph quantized_record = f32;  // f32 tensors, but the node is recorded as int8-dynamic
  quantized_record.nodes[0].precision.precision = "int8-dynamic";
  CHECK_FALSE(entry->supports(quantized_record, quantized_record.nodes[0]));

  ir::Graph bf16_out = f32;
  bf16_out.values[bf16_out.nodes[0].outputs[0]].dtype = ir::DType::kBF16;
  CHECK_FALSE(entry->supports(bf16_out, bf16_out.nodes[0]));

  ir::Graph bad_id = f32;
  bad_id.nodes[0].inputs[1] = 99;
  CHECK_FALSE(entry->supports(bad_id, bad_id.nodes[0]));
}

}  // namespace
}  // namespace qrt::testing
