#include "tests/ops/op_harness.h"

#include <doctest/doctest.h>

#include <cstring>
#include <utility>

#include "ops/register.h"
#include "runtime/kernel_registry.h"
#include "tests/ops/kernel_runner.h"
#include "tests/support/random.h"

namespace qrt::testing {

namespace {

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

}  // namespace

ir::Graph one_node_graph(const OpCase& c) {
  ir::Graph g;
  ir::Node node;
  node.name = c.node_name;
  node.op = c.op;
  node.attrs = c.attrs;
  for (std::size_t i = 0; i < c.inputs.size(); ++i) {
    if (!c.inputs[i]) {
      node.inputs.push_back(ir::kNoValue);
      continue;
    }
    const auto id = static_cast<ir::ValueId>(g.values.size());
    g.values.push_back(ir::Value{"in" + std::to_string(i), ir::DType::kF32, c.inputs[i]->shape,
                                 std::nullopt, std::nullopt});
    g.inputs.push_back(id);
    node.inputs.push_back(id);
  }
  add_node_with_f32_outputs(g, std::move(node), c.output_shapes);
  return g;
}

Result<std::vector<std::vector<float>>> run_cpu_op(const OpCase& c) {
  for (const auto& in : c.inputs)
    if (in && static_cast<int64_t>(in->data.size()) != ir::numel(in->shape))
      return invalid_argument("test case input has the wrong number of values");

  const ir::Graph graph = one_node_graph(c);
  std::vector<runtime::ConstTensorView> in_views(c.inputs.size());
  for (std::size_t i = 0; i < c.inputs.size(); ++i)
    if (c.inputs[i])
      in_views[i] = {ir::DType::kF32, c.inputs[i]->shape, c.inputs[i]->data.data(),
                     runtime::Device::kCpu};

  std::vector<std::vector<float>> inputs_before;
  for (const auto& in : c.inputs) inputs_before.push_back(in ? in->data : std::vector<float>{});

  QRT_ASSIGN_OR_RETURN(KernelRunResult run, run_single_node_kernel(graph, in_views));

  for (std::size_t i = 0; i < c.inputs.size(); ++i)
    if (c.inputs[i])
      CHECK_MESSAGE(same_bits(inputs_before[i], c.inputs[i]->data),
                    "input " << i << " was modified");
  return std::move(run.outputs);
}

std::vector<int64_t> strides_of(const ir::Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

HostTensor random_tensor(const ir::Shape& shape, uint64_t seed, float lo, float hi) {
  return {shape, random_floats(static_cast<std::size_t>(ir::numel(shape)), seed, lo, hi)};
}

}  // namespace qrt::testing
