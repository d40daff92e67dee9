#include "tests/ops/op_harness.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

#include "ops/register.h"
#include "runtime/kernel_registry.h"
#include "tests/support/random.h"

namespace qrt::testing {

namespace {

// Words after every output and the workspace; a kernel that writes past the end changes them.
constexpr std::size_t kCanaryWords = 16;
constexpr float kCanary = 1234.5678f;
constexpr float kPoison = std::numeric_limits<float>::quiet_NaN();

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

bool canaries_intact(const float* p, std::size_t n) {
  for (std::size_t i = 0; i < kCanaryWords; ++i)
    if (std::memcmp(&p[n + i], &kCanary, sizeof(float)) != 0) return false;
  return true;
}

struct FreeAligned {
  void operator()(float* p) const { std::free(p); }
};

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
  for (std::size_t i = 0; i < c.output_shapes.size(); ++i) {
    const auto id = static_cast<ir::ValueId>(g.values.size());
    g.values.push_back(ir::Value{"out" + std::to_string(i), ir::DType::kF32, c.output_shapes[i],
                                 std::nullopt, std::nullopt});
    g.outputs.push_back(id);
    node.outputs.push_back(id);
  }
  g.nodes.push_back(std::move(node));
  return g;
}

Result<std::vector<std::vector<float>>> run_cpu_op(const OpCase& c) {
  for (const auto& in : c.inputs)
    if (in && static_cast<int64_t>(in->data.size()) != ir::numel(in->shape))
      return invalid_argument("test case input has the wrong number of values");

  const ir::Graph graph = one_node_graph(c);
  const ir::Node& node = graph.nodes[0];
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  const runtime::KernelEntry* entry = registry.find(graph, node, runtime::Device::kCpu);
  if (entry == nullptr) return unsupported("no CPU kernel supports the node");
  std::unique_ptr<runtime::Kernel> kernel = entry->create();

  std::vector<ir::TensorType> in_types(c.inputs.size()), out_types(c.output_shapes.size());
  runtime::PrepareContext pctx{graph, node, {}, {}};
  for (std::size_t i = 0; i < c.inputs.size(); ++i) {
    if (c.inputs[i]) in_types[i] = {ir::DType::kF32, c.inputs[i]->shape};
    pctx.input_types.push_back(c.inputs[i] ? &in_types[i] : nullptr);
  }
  for (std::size_t i = 0; i < c.output_shapes.size(); ++i) {
    out_types[i] = {ir::DType::kF32, c.output_shapes[i]};
    pctx.output_types.push_back(&out_types[i]);
  }
  QRT_RETURN_IF_ERROR(kernel->prepare(pctx));

  std::vector<runtime::ConstTensorView> in_views(c.inputs.size());
  for (std::size_t i = 0; i < c.inputs.size(); ++i)
    if (c.inputs[i])
      in_views[i] = {ir::DType::kF32, c.inputs[i]->shape, c.inputs[i]->data.data(),
                     runtime::Device::kCpu};

  std::vector<std::vector<float>> out_bufs(c.output_shapes.size());
  std::vector<runtime::TensorView> out_views(c.output_shapes.size());
  for (std::size_t i = 0; i < c.output_shapes.size(); ++i) {
    const auto n = static_cast<std::size_t>(ir::numel(c.output_shapes[i]));
    out_bufs[i].assign(n + kCanaryWords, kCanary);
    std::fill(out_bufs[i].begin(), out_bufs[i].begin() + n, kPoison);
    out_views[i] = {ir::DType::kF32, c.output_shapes[i], out_bufs[i].data(), runtime::Device::kCpu};
  }

  // Workspace: 64-byte aligned as the planner promises, NaN-poisoned so that reading scratch the
  // kernel did not initialize shows up in the outputs.
  const std::size_t ws_bytes = kernel->workspace_bytes();
  const std::size_t ws_words = (ws_bytes + sizeof(float) - 1) / sizeof(float);
  const std::size_t ws_alloc = ((ws_words + kCanaryWords) * sizeof(float) + 63) / 64 * 64;
  std::unique_ptr<float, FreeAligned> workspace(
      static_cast<float*>(std::aligned_alloc(64, ws_alloc)));
  if (!workspace) return out_of_memory("test workspace");
  std::fill(workspace.get(), workspace.get() + ws_words, kPoison);
  std::fill(workspace.get() + ws_words, workspace.get() + ws_words + kCanaryWords, kCanary);

  std::vector<std::vector<float>> inputs_before;
  for (const auto& in : c.inputs) inputs_before.push_back(in ? in->data : std::vector<float>{});

  runtime::RunContext rctx;
  rctx.inputs = in_views;
  rctx.outputs = out_views;
  rctx.workspace = ws_bytes > 0 ? workspace.get() : nullptr;
  QRT_RETURN_IF_ERROR(kernel->run(rctx));

  for (std::size_t i = 0; i < c.inputs.size(); ++i)
    if (c.inputs[i])
      CHECK_MESSAGE(same_bits(inputs_before[i], c.inputs[i]->data),
                    "input " << i << " was modified");
  CHECK_MESSAGE(canaries_intact(workspace.get(), ws_words), "write past the workspace end");
  for (std::size_t i = 0; i < out_bufs.size(); ++i) {
    const std::size_t n = out_bufs[i].size() - kCanaryWords;
    CHECK_MESSAGE(canaries_intact(out_bufs[i].data(), n), "write past the end of output " << i);
    out_bufs[i].resize(n);
  }
  return out_bufs;
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
