#include "tests/ops/kernel_runner.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "ops/register.h"
#include "runtime/kernel_registry.h"

namespace qrt::testing {

namespace {

// Words after every output and the workspace; a kernel that writes past the end changes them.
constexpr std::size_t kCanaryWords = 16;
constexpr float kCanary = 1234.5678f;
constexpr float kPoison = std::numeric_limits<float>::quiet_NaN();

bool canaries_intact(const float* p, std::size_t n) {
  for (std::size_t i = 0; i < kCanaryWords; ++i)
    if (std::memcmp(&p[n + i], &kCanary, sizeof(float)) != 0) return false;
  return true;
}

struct FreeAligned {
  void operator()(float* p) const { std::free(p); }
};

}  // namespace

void add_node_with_f32_outputs(ir::Graph& g, ir::Node node,
                               const std::vector<ir::Shape>& output_shapes) {
  for (std::size_t i = 0; i < output_shapes.size(); ++i) {
    const auto id = static_cast<ir::ValueId>(g.values.size());
    g.values.push_back(ir::Value{"out" + std::to_string(i), ir::DType::kF32, output_shapes[i],
                                 std::nullopt, std::nullopt});
    g.outputs.push_back(id);
    node.outputs.push_back(id);
  }
  g.nodes.push_back(std::move(node));
}

Result<KernelRunResult> run_single_node_kernel(
    const ir::Graph& graph, const std::vector<runtime::ConstTensorView>& inputs) {
  const ir::Node& node = graph.nodes[0];
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  const runtime::KernelEntry* entry = registry.find(graph, node, runtime::Device::kCpu);
  if (entry == nullptr) return unsupported("no CPU kernel supports the node");
  std::unique_ptr<runtime::Kernel> kernel = entry->create();

  std::vector<ir::TensorType> in_types(node.inputs.size()), out_types(node.outputs.size());
  std::vector<ir::Shape> output_shapes(node.outputs.size());
  runtime::PrepareContext pctx{graph, node, {}, {}};
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    const bool absent = node.inputs[i] == ir::kNoValue;
    if (!absent) {
      const ir::Value& v = graph.values[static_cast<std::size_t>(node.inputs[i])];
      in_types[i] = {v.dtype, v.shape};
    }
    pctx.input_types.push_back(absent ? nullptr : &in_types[i]);
  }
  for (std::size_t i = 0; i < node.outputs.size(); ++i) {
    output_shapes[i] = graph.values[static_cast<std::size_t>(node.outputs[i])].shape;
    out_types[i] = {ir::DType::kF32, output_shapes[i]};
    pctx.output_types.push_back(&out_types[i]);
  }
  QRT_RETURN_IF_ERROR(kernel->prepare(pctx));

  std::vector<std::vector<float>> out_bufs(output_shapes.size());
  std::vector<runtime::TensorView> out_views(output_shapes.size());
  for (std::size_t i = 0; i < output_shapes.size(); ++i) {
    const auto n = static_cast<std::size_t>(ir::numel(output_shapes[i]));
    out_bufs[i].assign(n + kCanaryWords, kCanary);
    std::fill(out_bufs[i].begin(), out_bufs[i].begin() + n, kPoison);
    out_views[i] = {ir::DType::kF32, output_shapes[i], out_bufs[i].data(), runtime::Device::kCpu};
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

  runtime::RunContext rctx;
  rctx.inputs = inputs;
  rctx.outputs = out_views;
  rctx.workspace = ws_bytes > 0 ? workspace.get() : nullptr;
  QRT_RETURN_IF_ERROR(kernel->run(rctx));

  CHECK_MESSAGE(canaries_intact(workspace.get(), ws_words), "write past the workspace end");
  for (std::size_t i = 0; i < out_bufs.size(); ++i) {
    const std::size_t n = out_bufs[i].size() - kCanaryWords;
    CHECK_MESSAGE(canaries_intact(out_bufs[i].data(), n), "write past the end of output " << i);
    out_bufs[i].resize(n);
  }
  return KernelRunResult{entry->name, std::move(out_bufs)};
}

}  // namespace qrt::testing
