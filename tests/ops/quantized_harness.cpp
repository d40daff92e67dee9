#include "tests/ops/quantized_harness.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

#include "ops/register.h"
#include "runtime/kernel_registry.h"

namespace qrt::testing {

namespace {

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

std::string selected_kernel(const QCase& c) {
  const ir::Graph graph = quantized_graph(c);
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  const runtime::KernelEntry* entry = registry.find(graph, graph.nodes[0], runtime::Device::kCpu);
  return entry == nullptr ? std::string() : entry->name;
}

Result<QRun> run_quantized_op(const QCase& c) {
  const ir::Graph graph = quantized_graph(c);
  const ir::Node& node = graph.nodes[0];
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  const runtime::KernelEntry* entry = registry.find(graph, node, runtime::Device::kCpu);
  if (entry == nullptr) return unsupported("no CPU kernel supports the node");
  std::unique_ptr<runtime::Kernel> kernel = entry->create();

  std::vector<ir::TensorType> in_types(c.inputs.size()), out_types(c.output_shapes.size());
  runtime::PrepareContext pctx{graph, node, {}, {}};
  for (std::size_t i = 0; i < c.inputs.size(); ++i) {
    if (!c.inputs[i].absent) in_types[i] = {c.inputs[i].value.dtype, c.inputs[i].value.shape};
    pctx.input_types.push_back(c.inputs[i].absent ? nullptr : &in_types[i]);
  }
  for (std::size_t i = 0; i < c.output_shapes.size(); ++i) {
    out_types[i] = {ir::DType::kF32, c.output_shapes[i]};
    pctx.output_types.push_back(&out_types[i]);
  }
  QRT_RETURN_IF_ERROR(kernel->prepare(pctx));

  std::vector<runtime::ConstTensorView> in_views(c.inputs.size());
  for (std::size_t i = 0; i < c.inputs.size(); ++i) {
    const QInput& in = c.inputs[i];
    if (in.absent) continue;
    const void* data = in.value.is_constant() ? static_cast<const void*>(in.value.data->data())
                                              : static_cast<const void*>(in.data.data());
    in_views[i] = {in.value.dtype, in.value.shape, data, runtime::Device::kCpu};
  }
  std::vector<std::vector<float>> out_bufs(c.output_shapes.size());
  std::vector<runtime::TensorView> out_views(c.output_shapes.size());
  for (std::size_t i = 0; i < c.output_shapes.size(); ++i) {
    const auto n = static_cast<std::size_t>(ir::numel(c.output_shapes[i]));
    out_bufs[i].assign(n + kCanaryWords, kCanary);
    std::fill(out_bufs[i].begin(), out_bufs[i].begin() + n, kPoison);
    out_views[i] = {ir::DType::kF32, c.output_shapes[i], out_bufs[i].data(), runtime::Device::kCpu};
  }
  const std::size_t ws_bytes = kernel->workspace_bytes();
  const std::size_t ws_words = (ws_bytes + sizeof(float) - 1) / sizeof(float);
  const std::size_t ws_alloc = ((ws_words + kCanaryWords) * sizeof(float) + 63) / 64 * 64;
  std::unique_ptr<float, FreeAligned> workspace(
      static_cast<float*>(std::aligned_alloc(64, ws_alloc)));
  if (!workspace) return out_of_memory("test workspace");
  std::fill(workspace.get(), workspace.get() + ws_words, kPoison);
  std::fill(workspace.get() + ws_words, workspace.get() + ws_words + kCanaryWords, kCanary);

  runtime::RunContext rctx;
  rctx.inputs = in_views;
  rctx.outputs = out_views;
  rctx.workspace = ws_bytes > 0 ? workspace.get() : nullptr;
  QRT_RETURN_IF_ERROR(kernel->run(rctx));

  CHECK_MESSAGE(canaries_intact(workspace.get(), ws_words), "write past the workspace end");
  for (std::size_t i = 0; i < out_bufs.size(); ++i) {
    const std::size_t n = out_bufs[i].size() - kCanaryWords;
    CHECK_MESSAGE(canaries_intact(out_bufs[i].data(), n), "write past the end of output " << i);
    out_bufs[i].resize(n);
  }
  return QRun{entry->name, std::move(out_bufs)};
}

}  // namespace qrt::testing
