#include "tests/runtime/fake_kernels.h"

#include <cmath>
#include <cstdint>
#include <cstring>

namespace qrt::testing {

namespace {

using runtime::PrepareContext;
using runtime::RunContext;

Status expect_f32(const PrepareContext& ctx) {
  for (const ir::TensorType* t : ctx.input_types)
    if (t == nullptr || t->dtype != ir::DType::kF32)
      return unsupported("fake kernel needs f32 inputs");
  return Status::ok();
}

class FakeRelu : public runtime::Kernel {
 public:
  explicit FakeRelu(std::shared_ptr<KernelCounters> c) : counters_(std::move(c)) {}
  Status prepare(const PrepareContext& ctx) override {
    ++counters_->prepared;
    return expect_f32(ctx);
  }
  Status run(const RunContext& ctx) override {
    ++counters_->ran;
    const float* x = ctx.inputs[0].as<float>();
    float* y = ctx.outputs[0].as<float>();
    for (int64_t i = 0; i < ctx.outputs[0].numel(); ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    return Status::ok();
  }

 private:
  std::shared_ptr<KernelCounters> counters_;
};

class FakeAdd : public runtime::Kernel {
 public:
  FakeAdd(std::shared_ptr<KernelCounters> c, bool fail) : counters_(std::move(c)), fail_(fail) {}
  Status prepare(const PrepareContext& ctx) override {
    ++counters_->prepared;
    QRT_RETURN_IF_ERROR(expect_f32(ctx));
    if (ctx.input_types[0]->shape != ctx.input_types[1]->shape)
      return unsupported("fake Add needs equal shapes, got " +
                         ir::shape_to_string(ctx.input_types[0]->shape) + " and " +
                         ir::shape_to_string(ctx.input_types[1]->shape));
    return Status::ok();
  }
  Status run(const RunContext& ctx) override {
    ++counters_->ran;
    const float* a = ctx.inputs[0].as<float>();
    const float* b = ctx.inputs[1].as<float>();
    float* y = ctx.outputs[0].as<float>();
    double sum = 0.0;
    for (int64_t i = 0; i < ctx.outputs[0].numel(); ++i) sum += y[i] = a[i] + b[i];
    if (fail_ && sum < 0.0) return invalid_argument("fake Add: negative sum");
    return Status::ok();
  }

 private:
  std::shared_ptr<KernelCounters> counters_;
  bool fail_;
};

// tanh through a workspace copy: checks that the workspace is planned, aligned and large enough
// (a workspace overlapping the input or output would corrupt the result).
class FakeTanh : public runtime::Kernel {
 public:
  explicit FakeTanh(std::shared_ptr<KernelCounters> c) : counters_(std::move(c)) {}
  Status prepare(const PrepareContext& ctx) override {
    ++counters_->prepared;
    QRT_RETURN_IF_ERROR(expect_f32(ctx));
    bytes_ = static_cast<std::size_t>(ir::numel(ctx.input_types[0]->shape)) * sizeof(float);
    return Status::ok();
  }
  std::size_t workspace_bytes() const override { return bytes_; }
  Status run(const RunContext& ctx) override {
    ++counters_->ran;
    if (bytes_ > 0 && ctx.workspace == nullptr) return internal_error("fake Tanh: no workspace");
    if (reinterpret_cast<std::uintptr_t>(ctx.workspace) % 64 != 0)
      return internal_error("fake Tanh: workspace not 64-byte aligned");
    auto* scratch = static_cast<float*>(ctx.workspace);
    const int64_t n = ctx.outputs[0].numel();
    std::memcpy(scratch, ctx.inputs[0].data, bytes_);
    float* y = ctx.outputs[0].as<float>();
    for (int64_t i = 0; i < n; ++i) y[i] = -1.0f;  // poison: scratch must survive this
    for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(scratch[i]);
    return Status::ok();
  }

 private:
  std::shared_ptr<KernelCounters> counters_;
  std::size_t bytes_ = 0;
};

std::string kernel_name(runtime::Device device, const char* op) {
  return std::string(runtime::device_name(device)) + ".fake." + op;
}

bool all_f32_inputs(const ir::Graph& graph, const ir::Node& node) {
  for (ir::ValueId v : node.inputs)
    if (v == ir::kNoValue || graph.values[static_cast<std::size_t>(v)].dtype != ir::DType::kF32)
      return false;
  return true;
}

}  // namespace

void register_fake_relu(runtime::KernelRegistry& registry, runtime::Device device,
                        std::shared_ptr<KernelCounters> counters) {
  registry.add({ir::OpKind::kRelu, device, kernel_name(device, "relu"), all_f32_inputs,
                [counters]() -> std::unique_ptr<runtime::Kernel> {
                  ++counters->created;
                  return std::make_unique<FakeRelu>(counters);
                }});
}

void register_fake_kernels(runtime::KernelRegistry& registry, runtime::Device device,
                           std::shared_ptr<KernelCounters> counters,
                           bool fail_run_on_negative_sum) {
  register_fake_relu(registry, device, counters);
  registry.add({ir::OpKind::kAdd, device, kernel_name(device, "add"), all_f32_inputs,
                [counters, fail_run_on_negative_sum]() -> std::unique_ptr<runtime::Kernel> {
                  ++counters->created;
                  return std::make_unique<FakeAdd>(counters, fail_run_on_negative_sum);
                }});
  registry.add({ir::OpKind::kTanh, device, kernel_name(device, "tanh"), all_f32_inputs,
                [counters]() -> std::unique_ptr<runtime::Kernel> {
                  ++counters->created;
                  return std::make_unique<FakeTanh>(counters);
                }});
}

}  // namespace qrt::testing
