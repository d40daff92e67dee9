#include "tests/ops/quantized_harness.h"

#include <doctest/doctest.h>

#include <utility>

#include "ops/register.h"
#include "runtime/kernel_registry.h"
#include "tests/ops/kernel_runner.h"

namespace qrt::testing {

QInput f32_input(const std::string& name, const ir::Shape& shape, std::vector<float> data,
                 std::optional<ir::QuantParams> quant) {
  QInput in;
  in.value = ir::Value{name, ir::DType::kF32, shape, std::nullopt, std::move(quant)};
  in.data = std::move(data);
  return in;
}

QInput raw_constant(const std::string& name, ir::DType dtype, const ir::Shape& shape,
                    const void* bytes, std::size_t size, std::optional<ir::QuantParams> quant) {
  QInput in;
  auto data = ir::ConstantData::copy_of(bytes, size);
  REQUIRE(data.is_ok());
  in.value = ir::Value{name, dtype, shape, std::move(*data), std::move(quant)};
  return in;
}

QInput f32_constant(const std::string& name, const ir::Shape& shape,
                    const std::vector<float>& data) {
  return raw_constant(name, ir::DType::kF32, shape, data.data(), data.size() * sizeof(float),
                      std::nullopt);
}

QInput absent_input() {
  QInput in;
  in.absent = true;
  return in;
}

ir::Graph quantized_graph(const QCase& c) {
  ir::Graph g;
  ir::Node node;
  node.name = "op_under_test";
  node.op = c.op;
  node.attrs = c.attrs;
  node.precision = c.precision;
  for (const QInput& in : c.inputs) {
    if (in.absent) {
      node.inputs.push_back(ir::kNoValue);
      continue;
    }
    const auto id = static_cast<ir::ValueId>(g.values.size());
    g.values.push_back(in.value);
    if (!in.value.is_constant()) g.inputs.push_back(id);
    node.inputs.push_back(id);
  }
  add_node_with_f32_outputs(g, std::move(node), c.output_shapes);
  return g;
}

std::string selected_kernel(const QCase& c) {
  const ir::Graph graph = quantized_graph(c);
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  const runtime::KernelEntry* entry = registry.find(graph, graph.nodes[0], runtime::Device::kCpu);
  return entry == nullptr ? std::string() : entry->name;
}

Result<QRun> run_quantized_op(const QCase& c) {
  const ir::Graph graph = quantized_graph(c);
  std::vector<runtime::ConstTensorView> in_views(c.inputs.size());
  for (std::size_t i = 0; i < c.inputs.size(); ++i) {
    const QInput& in = c.inputs[i];
    if (in.absent) continue;
    const void* data = in.value.is_constant() ? static_cast<const void*>(in.value.data->data())
                                              : static_cast<const void*>(in.data.data());
    in_views[i] = {in.value.dtype, in.value.shape, data, runtime::Device::kCpu};
  }
  QRT_ASSIGN_OR_RETURN(KernelRunResult run, run_single_node_kernel(graph, in_views));
  return QRun{std::move(run.kernel_name), std::move(run.outputs)};
}

}  // namespace qrt::testing
