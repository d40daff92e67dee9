#include "tests/runtime/fake_kernels.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>

#include "tests/runtime/fake_device.h"

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

// A fake kernel on the fake device: checks that the session hands it device memory (constants
// excepted) and the stream, then enqueues the wrapped kernel's run there, to run at the stream's
// next synchronize or to be recorded and replayed with the same views.
class OnFakeDevice : public runtime::Kernel {
 public:
  OnFakeDevice(std::unique_ptr<runtime::Kernel> inner, std::string name, bool capturable)
      : inner_(std::move(inner)), name_(std::move(name)), capturable_(capturable) {}
  Status prepare(const PrepareContext& ctx) override { return inner_->prepare(ctx); }
  std::size_t workspace_bytes() const override { return inner_->workspace_bytes(); }
  bool capturable() const override { return capturable_; }
  Status run(const RunContext& ctx) override {
    if (ctx.stream == nullptr) return internal_error(name_ + ": no stream");
    auto& device = *static_cast<FakeDeviceBackend*>(ctx.stream);
    const auto on_device = [&](const void* data, std::size_t bytes) {
      return device.holds_device_bytes(data, bytes);
    };
    for (const runtime::ConstTensorView& in : ctx.inputs)
      if (in.present() && in.device == runtime::Device::kCuda &&
          !on_device(in.data, static_cast<std::size_t>(in.numel()) * sizeof(float)))
        return internal_error(name_ + ": a device input is not in device memory");
    for (const runtime::TensorView& out : ctx.outputs)
      if (out.device != runtime::Device::kCuda ||
          !on_device(out.data, static_cast<std::size_t>(out.numel()) * sizeof(float)))
        return internal_error(name_ + ": an output is not in device memory");
    if (ctx.workspace != nullptr && !on_device(ctx.workspace, inner_->workspace_bytes()))
      return internal_error(name_ + ": the workspace is not in device memory");
    runtime::Kernel* inner = inner_.get();
    device.enqueue(name_, [inner, ctx] { return inner->run(ctx); });
    return Status::ok();
  }

 private:
  std::unique_ptr<runtime::Kernel> inner_;
  std::string name_;
  bool capturable_;
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

// The factory of kernel K on `device`: as it is on the CPU, on the fake device's stream elsewhere.
template <typename K, typename... Args>
std::function<std::unique_ptr<runtime::Kernel>()> factory(runtime::Device device, const char* op,
                                                          bool capturable,
                                                          std::shared_ptr<KernelCounters> counters,
                                                          Args... args) {
  return [=]() -> std::unique_ptr<runtime::Kernel> {
    ++counters->created;
    auto kernel = std::make_unique<K>(counters, args...);
    if (device == runtime::Device::kCpu) return kernel;
    return std::make_unique<OnFakeDevice>(std::move(kernel), kernel_name(device, op), capturable);
  };
}

}  // namespace

void register_fake_relu(runtime::KernelRegistry& registry, runtime::Device device,
                        std::shared_ptr<KernelCounters> counters) {
  registry.add({ir::OpKind::kRelu, device, kernel_name(device, "relu"), all_f32_inputs,
                factory<FakeRelu>(device, "relu", true, counters)});
}

void register_uncapturable_fake_relu(runtime::KernelRegistry& registry,
                                     std::shared_ptr<KernelCounters> counters) {
  const runtime::Device device = runtime::Device::kCuda;
  registry.add({ir::OpKind::kRelu, device, "cuda.fake.uncapturable_relu", all_f32_inputs,
                factory<FakeRelu>(device, "uncapturable_relu", false, counters)});
}

void register_fake_kernels(runtime::KernelRegistry& registry, runtime::Device device,
                           std::shared_ptr<KernelCounters> counters,
                           bool fail_run_on_negative_sum) {
  register_fake_relu(registry, device, counters);
  registry.add({ir::OpKind::kAdd, device, kernel_name(device, "add"), all_f32_inputs,
                factory<FakeAdd>(device, "add", true, counters, fail_run_on_negative_sum)});
  registry.add({ir::OpKind::kTanh, device, kernel_name(device, "tanh"), all_f32_inputs,
                factory<FakeTanh>(device, "tanh", true, counters)});
}

}  // namespace qrt::testing
