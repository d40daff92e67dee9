#include "runtime/session.h"

#include <cstring>
#include <string>
#include <utility>

#include "runtime/input_binding.h"
#include "runtime/kernel_selection.h"
#include "runtime/session_impl.h"

namespace qrt::runtime {

using namespace detail;

// Runs (or, while recording, enqueues) every step. Device work is asynchronous: a host step first
// waits for it, since it may read a transferred value or reuse host bytes a copy still reads. The
// caller synchronizes after the last step.
Status Session::Impl::run_steps(const ValueObserver* observer) {
  bool device_pending = false;
  void* const stream = backend ? backend->stream() : nullptr;
  for (Step& step : steps) {
    if (step.is_transfer()) {
      const Status copied = step.bytes == 0 ? Status::ok()
                            : step.place == kOnDevice
                                ? backend->copy_to_device(step.destination, step.source, step.bytes)
                                : backend->copy_to_host(step.destination, step.source, step.bytes);
      if (!copied.is_ok())
        return copied.with_context("copying value '" + value(step.value).name + "' to " +
                                   device_name(device_of(step.place)));
      device_pending = true;
      continue;
    }
    const ir::Node& node = graph->nodes[static_cast<std::size_t>(step.node_index)];
    if (step.place == kHost && device_pending) {
      QRT_RETURN_IF_ERROR(backend->synchronize().with_context("before " + node_desc(node)));
      device_pending = false;
    }
    RunContext ctx{
        step.inputs, step.outputs,
        step.workspace_bytes > 0 ? arena_base(step.place) + step.workspace_offset : nullptr,
        step.place == kOnDevice ? stream : nullptr};
    Status status = step.kernel->run(ctx);
    if (!status.is_ok()) return status.with_context(node_desc(node) + " [" + step.entry.name + "]");
    device_pending = device_pending || step.place == kOnDevice;
    if (observer == nullptr) continue;
    for (std::size_t o = 0; o < node.outputs.size(); ++o) {
      if (node.outputs[o] == ir::kNoValue) continue;
      const ir::Value& out = value(node.outputs[o]);
      const Status seen = step.place == kHost
                              ? (*observer)(out, step.outputs[o])
                              : observe_device_value(out, step.outputs[o], *observer);
      if (!seen.is_ok()) return seen.with_context("observing value '" + out.name + "'");
    }
  }
  return Status::ok();
}

// Observers read host memory: a device value is copied to a host tensor first (observed runs are
// for calibration and debugging, so the copy and its allocation are acceptable there).
Status Session::Impl::observe_device_value(const ir::Value& value, const ConstTensorView& view,
                                           const ValueObserver& observer) {
  QRT_ASSIGN_OR_RETURN(Tensor host, Tensor::allocate(view.dtype, view.shape));
  QRT_RETURN_IF_ERROR(backend->synchronize());
  if (host.byte_size() > 0)
    QRT_RETURN_IF_ERROR(backend->copy_to_host(host.data(), view.data, host.byte_size()));
  QRT_RETURN_IF_ERROR(backend->synchronize());
  return observer(value, host.view());
}

// The second run with unchanged shapes records the steps, every later one replays the recording.
// Recording enqueues nothing that runs, so the recording is replayed at once.
Status Session::Impl::record_and_replay() {
  if (!captured) {
    QRT_RETURN_IF_ERROR(backend->begin_capture().with_context("recording the forward"));
    const Status enqueued = run_steps(nullptr);
    const Status ended = backend->end_capture();
    if (!enqueued.is_ok()) {
      // A call that broke the recording makes every later recording fail the same way: this plan
      // runs unrecorded from now on (a kernel's own failure fails those runs too, as it should).
      backend->discard_capture();
      capturable = false;
      return enqueued.with_context("recording the forward");
    }
    if (!ended.is_ok()) {
      // Later runs of this plan run unrecorded; the failure names the step that broke recording.
      capturable = false;
      return ended.with_context(
          "recording the forward (SessionOptions::capture_graphs = false runs without)");
    }
    captured = true;
  }
  QRT_RETURN_IF_ERROR(backend->replay().with_context("replaying the recorded forward"));
  replayed_last_run = true;
  return Status::ok();
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() {
  // Work a failed run left in flight may still use the arenas and the kernels' device memory.
  if (impl_->backend) (void)impl_->backend->synchronize();
}

Result<std::unique_ptr<Session>> Session::create(std::shared_ptr<const ir::Graph> graph,
                                                 const KernelRegistry& registry,
                                                 SessionOptions options) {
  if (!graph) return invalid_argument("Session::create: graph is null");
  QRT_RETURN_IF_ERROR(ir::verify(*graph).with_context("verifying the graph"));
  QRT_ASSIGN_OR_RETURN(std::vector<int> order, ir::topological_order(*graph));
  QRT_ASSIGN_OR_RETURN(std::vector<KernelEntry> entries,
                       select_kernels(*graph, order, registry, options.device, options.strict));

  auto impl = std::make_unique<Impl>();
  impl->graph = std::move(graph);
  impl->options = options;
  if (impl->place_steps(order, std::move(entries))) {
    const std::string device = device_name(options.device);
    const DeviceBackendFactory* factory = registry.device_backend(options.device);
    if (factory == nullptr || !*factory)
      return unsupported("no " + device + " device backend is registered, but " + device +
                         " kernels were chosen (the registry needs set_device_backend)");
    auto backend = (*factory)();
    if (!backend.is_ok())
      return backend.status().with_context("creating the " + device + " device backend");
    if (*backend == nullptr)
      return internal_error("the " + device + " device backend factory returned nothing");
    impl->backend = std::move(backend).value();
  }
  impl->bound.assign(impl->graph->inputs.size(), nullptr);

  // Static declared shapes: prepare and plan now, so that errors surface at creation and the first
  // run allocates nothing but its outputs. Dynamic dims wait for the first run's shapes.
  std::vector<ir::Shape> declared;
  bool all_static = true;
  for (ir::ValueId v : impl->graph->inputs) {
    declared.push_back(impl->value(v).shape);
    all_static = all_static && ir::is_static(declared.back());
  }
  if (all_static) QRT_RETURN_IF_ERROR(impl->plan(declared));
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

Result<std::vector<Tensor>> Session::run(const std::vector<NamedTensor>& inputs) {
  return run_observed(inputs, nullptr);
}

Result<std::vector<Tensor>> Session::run(const std::vector<NamedTensor>& inputs,
                                         const ValueObserver& observer) {
  if (!observer) return invalid_argument("Session::run: the value observer is empty");
  return run_observed(inputs, &observer);
}

Result<std::vector<Tensor>> Session::run_observed(const std::vector<NamedTensor>& inputs,
                                                  const ValueObserver* observer) {
  Impl& s = *impl_;
  const ir::Graph& g = *s.graph;
  s.replayed_last_run = false;
  QRT_RETURN_IF_ERROR(bind_inputs(g, inputs, s.bound));
  if (s.shapes_changed()) {
    std::vector<ir::Shape> shapes;
    shapes.reserve(s.bound.size());
    for (const ConstTensorView* t : s.bound) shapes.push_back(t->shape);
    QRT_RETURN_IF_ERROR(s.plan(shapes));
  }

  // Graph inputs are read in place from the caller's buffers by host steps, and copied into their
  // host staging when the device reads them. An empty input may come without data; kernels still
  // get a non-null pointer (null marks an absent optional input).
  const auto input_data = [&](std::size_t i) -> const void* {
    return s.bound[i]->data != nullptr ? s.bound[i]->data : s.arena_base(kHost);
  };
  for (const InputUse& use : s.input_uses)
    s.steps[use.step].inputs[use.position].data = input_data(use.input_index);
  for (const StagedInput& staged : s.staged_inputs) {
    const ir::TensorType& t = s.types[static_cast<std::size_t>(g.inputs[staged.input_index])];
    const std::size_t bytes = ir::storage_bytes(t.dtype, ir::numel(t.shape)).value();
    if (bytes > 0)
      std::memcpy(s.arena_base(kHost) + staged.offset, input_data(staged.input_index), bytes);
  }

  if (observer != nullptr) {
    for (std::size_t i = 0; i < g.inputs.size(); ++i) {
      ConstTensorView view = *s.bound[i];
      view.data = input_data(i);
      const ir::Value& value = s.value(g.inputs[i]);
      QRT_RETURN_IF_ERROR(
          (*observer)(value, view).with_context("observing value '" + value.name + "'"));
    }
  }

  // Observed runs copy device values out between steps, so they are never recorded.
  const bool replay = observer == nullptr && s.capturable && (s.captured || s.runs_since_plan >= 1);
  const Status ran = replay ? s.record_and_replay() : s.run_steps(observer);
  if (!ran.is_ok()) {
    // Work enqueued before the failure may still read the host staging, which the next run
    // overwrites first thing: let it finish (its own error, if any, is the later one).
    if (s.backend) (void)s.backend->synchronize();
    return ran;
  }
  if (observer == nullptr) ++s.runs_since_plan;
  if (s.backend) QRT_RETURN_IF_ERROR(s.backend->synchronize().with_context("finishing the run"));

  std::vector<Tensor> outputs;
  outputs.reserve(g.outputs.size());
  for (ir::ValueId v : g.outputs) {
    const ir::TensorType& t = s.types[static_cast<std::size_t>(v)];
    auto out = Tensor::allocate(t.dtype, t.shape);
    if (!out.is_ok()) return out.status().with_context("output '" + s.value(v).name + "'");
    const ValueSlot& slot = s.slots[static_cast<std::size_t>(v)];
    const void* src = slot.storage == Storage::kGraphInput ? input_data(slot.input_index)
                                                           : s.value_data(v, kHost);
    if (out->byte_size() > 0) std::memcpy(out->data(), src, out->byte_size());
    outputs.push_back(std::move(out).value());
  }
  return outputs;
}

const ir::Graph& Session::graph() const {
  return *impl_->graph;
}

std::vector<std::string> Session::input_names() const {
  std::vector<std::string> names;
  for (ir::ValueId v : impl_->graph->inputs) names.push_back(impl_->value(v).name);
  return names;
}

std::vector<std::string> Session::output_names() const {
  std::vector<std::string> names;
  for (ir::ValueId v : impl_->graph->outputs) names.push_back(impl_->value(v).name);
  return names;
}

std::size_t Session::arena_bytes() const {
  return impl_->planned ? impl_->arenas[kHost].bytes : 0;
}

std::size_t Session::device_arena_bytes() const {
  return impl_->planned && impl_->backend ? impl_->arenas[kOnDevice].bytes : 0;
}

bool Session::replayed_last_run() const {
  return impl_->replayed_last_run;
}

std::vector<std::string> Session::kernel_names() const {
  std::vector<std::string> names;
  for (const Step& step : impl_->steps) {
    if (step.is_transfer()) {
      const Place from = step.place == kHost ? kOnDevice : kHost;
      names.push_back(impl_->value(step.value).name + ": copy " +
                      device_name(impl_->device_of(from)) + " -> " +
                      device_name(impl_->device_of(step.place)));
      continue;
    }
    const std::string detail = step.kernel ? step.kernel->describe() : std::string();
    names.push_back(impl_->graph->nodes[static_cast<std::size_t>(step.node_index)].name + ": " +
                    step.entry.name + (detail.empty() ? "" : " (" + detail + ")"));
  }
  return names;
}

}  // namespace qrt::runtime
