// register_cpu_kernels: one reference entry per op, and `supports` only for plain f32 nodes.
#include <doctest/doctest.h>

#include <set>

#include "ops/register.h"
#include "tests/ops/op_harness.h"

namespace qrt::testing {
namespace {

TEST_CASE("Registry: every op has exactly one CPU reference kernel") {
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  std::set<ir::OpKind> seen;
  for (const runtime::KernelEntry& e : registry.entries()) {
    INFO(e.name);
    CHECK(e.device == runtime::Device::kCpu);
    CHECK(e.name.rfind("cpu.reference.", 0) == 0);
    CHECK(seen.insert(e.op).second);
    REQUIRE(e.create);
    CHECK(e.create() != nullptr);
  }
  CHECK(seen.size() == static_cast<std::size_t>(ir::kNumOpKinds));
}

TEST_CASE("Registry: supports accepts f32 and rejects f16 or quantized tensors") {
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

  ir::Graph quant_f32 = f32;  // f32 storage but quantization parameters attached (fake-quant)
  ir::QuantParams per_tensor;
  per_tensor.scheme = ir::QuantScheme::kSymmetricPerTensor;
  per_tensor.scales = {0.5f};
  quant_f32.values[quant_f32.nodes[0].inputs[0]].quant = per_tensor;
  CHECK_FALSE(entry->supports(quant_f32, quant_f32.nodes[0]));

  ir::Graph bf16_out = f32;
  bf16_out.values[bf16_out.nodes[0].outputs[0]].dtype = ir::DType::kBF16;
  CHECK_FALSE(entry->supports(bf16_out, bf16_out.nodes[0]));

  ir::Graph bad_id = f32;
  bad_id.nodes[0].inputs[1] = 99;
  CHECK_FALSE(entry->supports(bad_id, bad_id.nodes[0]));
}

}  // namespace
}  // namespace qrt::testing
