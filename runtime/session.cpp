#include "runtime/session.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "runtime/input_binding.h"
#include "runtime/kernel_selection.h"
#include "runtime/memory_planner.h"

namespace qrt::runtime {

namespace {

// Every arena buffer starts on a 64-byte boundary (cache line, AVX-512 vector).
constexpr std::size_t kArenaAlignment = 64;

std::string node_desc(const ir::Node& node) {
  return "node '" + node.name + "' (" + ir::op_name(node.op) + ")";
}

// Where the bytes of a value live while the graph runs.
enum class Storage { kAbsent, kGraphInput, kConstant, kArena };

struct ValueSlot {
  Storage storage = Storage::kAbsent;
  std::size_t input_index = 0;  // kGraphInput: position in graph.inputs
  std::size_t offset = 0;       // kArena: byte offset in the arena
};

// A graph input read by a step: its pointer is patched into the step's view at every run.
struct InputUse {
  std::size_t step;
  std::size_t position;
  std::size_t input_index;
};

struct Step {
  int node_index = 0;
  KernelEntry entry;
  std::unique_ptr<Kernel> kernel;
  std::vector<ConstTensorView> inputs;
  std::vector<TensorView> outputs;
  std::size_t workspace_bytes = 0;
  std::size_t workspace_offset = 0;
};

}  // namespace

struct Session::Impl {
  std::shared_ptr<const ir::Graph> graph;
  SessionOptions options;
  std::vector<Step> steps;  // execution order

  // The current plan, valid when `planned`: built for `planned_shapes` (one per graph input).
  bool planned = false;
  std::vector<ir::Shape> planned_shapes;
  std::vector<ir::TensorType> types;  // per value
  std::vector<ValueSlot> slots;       // per value
  std::vector<InputUse> input_uses;
  Tensor arena;
  std::size_t arena_bytes = 0;

  // Reused by every run so that a run with unchanged shapes allocates only its outputs.
  std::vector<const ConstTensorView*> bound;

  const ir::Value& value(ir::ValueId v) const { return graph->values[static_cast<std::size_t>(v)]; }
  std::byte* arena_base() { return static_cast<std::byte*>(arena.data()); }

  Status plan(const std::vector<ir::Shape>& input_shapes);
  Status assign_storage();
  Status build_views();
  bool shapes_changed() const;
  const void* value_data(ir::ValueId v);
};

bool Session::Impl::shapes_changed() const {
  if (!planned) return true;
  for (std::size_t i = 0; i < bound.size(); ++i)
    if (bound[i]->shape != planned_shapes[i]) return true;
  return false;
}

// Infers every value's type for these input shapes, prepares fresh kernels, plans the arena.
Status Session::Impl::plan(const std::vector<ir::Shape>& input_shapes) {
  planned = false;
  auto inferred = ir::infer_shapes(*graph, input_shapes);
  if (!inferred.is_ok()) return inferred.status().with_context("inferring shapes");
  types = std::move(inferred).value();
  if (types.size() != graph->values.size())
    return internal_error("shape inference returned " + std::to_string(types.size()) +
                          " types for " + std::to_string(graph->values.size()) + " values");

  for (Step& step : steps) {
    const ir::Node& node = graph->nodes[static_cast<std::size_t>(step.node_index)];
    PrepareContext ctx{*graph, node, {}, {}};
    for (ir::ValueId v : node.inputs)
      ctx.input_types.push_back(v == ir::kNoValue ? nullptr : &types[static_cast<std::size_t>(v)]);
    for (ir::ValueId v : node.outputs)
      ctx.output_types.push_back(v == ir::kNoValue ? nullptr : &types[static_cast<std::size_t>(v)]);
    step.kernel = step.entry.create();
    if (!step.kernel)
      return internal_error(node_desc(node) + ": kernel '" + step.entry.name +
                            "' factory returned nothing");
    QRT_RETURN_IF_ERROR(
        step.kernel->prepare(ctx).with_context(node_desc(node) + " [" + step.entry.name + "]"));
    step.workspace_bytes = step.kernel->workspace_bytes();
  }
  QRT_RETURN_IF_ERROR(assign_storage());
  QRT_RETURN_IF_ERROR(build_views());
  planned_shapes = input_shapes;
  planned = true;
  return Status::ok();
}

// Lifetimes of every value a node produces and of every workspace, planned into one arena.
// Step s is the s-th node in execution order; graph outputs stay alive one step past the last node
// so that they can be copied out after the run.
Status Session::Impl::assign_storage() {
  const ir::Graph& g = *graph;
  const int end_step = static_cast<int>(steps.size());
  slots.assign(g.values.size(), ValueSlot{});
  for (std::size_t i = 0; i < g.inputs.size(); ++i)
    slots[static_cast<std::size_t>(g.inputs[i])] = {Storage::kGraphInput, i, 0};
  for (std::size_t v = 0; v < g.values.size(); ++v)
    if (g.values[v].is_constant()) slots[v] = {Storage::kConstant, 0, 0};

  std::vector<int> first(g.values.size(), -1), last(g.values.size(), -1);
  for (std::size_t s = 0; s < steps.size(); ++s) {
    const ir::Node& node = g.nodes[static_cast<std::size_t>(steps[s].node_index)];
    for (ir::ValueId v : node.outputs)
      if (v != ir::kNoValue && first[v] < 0) first[v] = last[v] = static_cast<int>(s);
    for (ir::ValueId v : node.inputs)
      if (v != ir::kNoValue) last[v] = std::max(last[v], static_cast<int>(s));
  }
  for (ir::ValueId v : g.outputs) last[v] = end_step;

  std::vector<BufferLifetime> buffers;
  std::vector<ir::ValueId> buffer_value;  // kNoValue: the workspace of step `buffer_step`
  std::vector<std::size_t> buffer_step;
  std::size_t total = 0;  // sum of aligned sizes: an upper bound of the arena, checked for overflow
  auto add = [&](std::size_t bytes, int first_step, int last_step, ir::ValueId v,
                 std::size_t step) -> Status {
    const std::size_t limit = std::numeric_limits<std::size_t>::max() / 2;
    if (bytes > limit || total > limit - bytes)
      return out_of_memory("activation memory does not fit in the address space");
    total += (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
    buffers.push_back({bytes, first_step, last_step});
    buffer_value.push_back(v);
    buffer_step.push_back(step);
    return Status::ok();
  };
  for (std::size_t v = 0; v < g.values.size(); ++v) {
    if (slots[v].storage != Storage::kAbsent || first[v] < 0) continue;
    const ir::TensorType& t = types[v];
    auto count = ir::checked_numel(t.shape);
    if (!count.is_ok())
      return internal_error("value '" + g.values[v].name + "': " + count.status().message());
    auto bytes = ir::storage_bytes(t.dtype, *count);
    if (!bytes.is_ok())
      return out_of_memory("value '" + g.values[v].name + "': " + bytes.status().message());
    QRT_RETURN_IF_ERROR(add(*bytes, first[v], last[v], static_cast<ir::ValueId>(v), 0));
    slots[v].storage = Storage::kArena;
  }
  for (std::size_t s = 0; s < steps.size(); ++s)
    if (steps[s].workspace_bytes > 0)
      QRT_RETURN_IF_ERROR(
          add(steps[s].workspace_bytes, static_cast<int>(s), static_cast<int>(s), ir::kNoValue, s));

  const MemoryPlan plan = plan_memory(buffers, kArenaAlignment);
  for (std::size_t b = 0; b < buffers.size(); ++b) {
    if (buffer_value[b] == ir::kNoValue)
      steps[buffer_step[b]].workspace_offset = plan.offsets[b];
    else
      slots[static_cast<std::size_t>(buffer_value[b])].offset = plan.offsets[b];
  }
  arena_bytes = plan.arena_bytes;
  // Grow only: a plan for smaller shapes reuses the arena it already has.
  if (arena.data() == nullptr || arena.byte_size() < arena_bytes) {
    arena = Tensor();  // release the old arena before taking the new one
    auto fresh = Tensor::allocate(ir::DType::kU8, {static_cast<int64_t>(arena_bytes)});
    if (!fresh.is_ok()) return fresh.status().with_context("allocating the activation arena");
    arena = std::move(fresh).value();
  }
  return Status::ok();
}

// The data of a value that is not a graph input. Zero-byte values still get a non-null pointer
// (the arena base), since a null pointer marks an absent optional input.
const void* Session::Impl::value_data(ir::ValueId v) {
  const ValueSlot& slot = slots[static_cast<std::size_t>(v)];
  if (slot.storage == Storage::kConstant) {
    const std::byte* p = value(v).data->data();
    return p != nullptr ? p : arena_base();
  }
  return arena_base() + slot.offset;
}

// Views handed to kernels: shapes and pointers fixed for this plan; graph inputs patched per run.
Status Session::Impl::build_views() {
  input_uses.clear();
  for (std::size_t s = 0; s < steps.size(); ++s) {
    Step& step = steps[s];
    const ir::Node& node = graph->nodes[static_cast<std::size_t>(step.node_index)];
    step.inputs.assign(node.inputs.size(), ConstTensorView{});
    step.outputs.assign(node.outputs.size(), TensorView{});
    for (std::size_t i = 0; i < node.inputs.size(); ++i) {
      const ir::ValueId v = node.inputs[i];
      if (v == ir::kNoValue) continue;
      const ir::TensorType& t = types[static_cast<std::size_t>(v)];
      ConstTensorView& view = step.inputs[i];
      view.dtype = t.dtype;
      view.shape = t.shape;
      // All buffers are host memory today, whatever the kernel's device; a device arena per backend
      // is the seam for kernels that want device-resident activations.
      view.device = Device::kCpu;
      const ValueSlot& slot = slots[static_cast<std::size_t>(v)];
      if (slot.storage == Storage::kGraphInput) {
        input_uses.push_back({s, i, slot.input_index});
      } else if (slot.storage == Storage::kAbsent) {
        return internal_error(node_desc(node) + ": input '" + value(v).name + "' has no storage");
      } else {
        view.data = value_data(v);
      }
    }
    for (std::size_t o = 0; o < node.outputs.size(); ++o) {
      const ir::ValueId v = node.outputs[o];
      if (v == ir::kNoValue) continue;
      const ir::TensorType& t = types[static_cast<std::size_t>(v)];
      const ValueSlot& slot = slots[static_cast<std::size_t>(v)];
      if (slot.storage != Storage::kArena)
        return internal_error(node_desc(node) + ": output '" + value(v).name +
                              "' is not an activation");
      step.outputs[o] = TensorView{t.dtype, t.shape, arena_base() + slot.offset, Device::kCpu};
    }
  }
  return Status::ok();
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

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
  impl->steps.resize(order.size());
  for (std::size_t s = 0; s < order.size(); ++s) {
    impl->steps[s].node_index = order[s];
    impl->steps[s].entry = std::move(entries[s]);
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
  QRT_RETURN_IF_ERROR(bind_inputs(g, inputs, s.bound));
  if (s.shapes_changed()) {
    std::vector<ir::Shape> shapes;
    shapes.reserve(s.bound.size());
    for (const ConstTensorView* t : s.bound) shapes.push_back(t->shape);
    QRT_RETURN_IF_ERROR(s.plan(shapes));
  }

  // Graph inputs are read in place from the caller's buffers. An empty input may come without
  // data; kernels still get a non-null pointer (null marks an absent optional input).
  const auto input_data = [&](std::size_t i) -> const void* {
    return s.bound[i]->data != nullptr ? s.bound[i]->data : s.arena_base();
  };
  for (const InputUse& use : s.input_uses)
    s.steps[use.step].inputs[use.position].data = input_data(use.input_index);

  const auto observe = [&](ir::ValueId v, const ConstTensorView& view) -> Status {
    const ir::Value& value = s.value(v);
    return (*observer)(value, view).with_context("observing value '" + value.name + "'");
  };
  if (observer != nullptr) {
    for (std::size_t i = 0; i < g.inputs.size(); ++i) {
      ConstTensorView view = *s.bound[i];
      view.data = input_data(i);
      QRT_RETURN_IF_ERROR(observe(g.inputs[i], view));
    }
  }

  for (Step& step : s.steps) {
    RunContext ctx{step.inputs, step.outputs,
                   step.workspace_bytes > 0 ? s.arena_base() + step.workspace_offset : nullptr};
    Status status = step.kernel->run(ctx);
    if (!status.is_ok()) {
      const ir::Node& node = g.nodes[static_cast<std::size_t>(step.node_index)];
      return status.with_context(node_desc(node) + " [" + step.entry.name + "]");
    }
    if (observer != nullptr) {
      const ir::Node& node = g.nodes[static_cast<std::size_t>(step.node_index)];
      for (std::size_t o = 0; o < node.outputs.size(); ++o)
        if (node.outputs[o] != ir::kNoValue)
          QRT_RETURN_IF_ERROR(observe(node.outputs[o], step.outputs[o]));
    }
  }

  std::vector<Tensor> outputs;
  outputs.reserve(g.outputs.size());
  for (ir::ValueId v : g.outputs) {
    const ir::TensorType& t = s.types[static_cast<std::size_t>(v)];
    auto out = Tensor::allocate(t.dtype, t.shape);
    if (!out.is_ok()) return out.status().with_context("output '" + s.value(v).name + "'");
    const ValueSlot& slot = s.slots[static_cast<std::size_t>(v)];
    const void* src =
        slot.storage == Storage::kGraphInput ? input_data(slot.input_index) : s.value_data(v);
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
  return impl_->planned ? impl_->arena_bytes : 0;
}

std::vector<std::string> Session::kernel_names() const {
  std::vector<std::string> names;
  for (const Step& step : impl_->steps) {
    const std::string detail = step.kernel ? step.kernel->describe() : std::string();
    names.push_back(impl_->graph->nodes[static_cast<std::size_t>(step.node_index)].name + ": " +
                    step.entry.name + (detail.empty() ? "" : " (" + detail + ")"));
  }
  return names;
}

}  // namespace qrt::runtime
