// Session planning: placement of every step, kernel preparation, the host and device arenas and
// the views kernels and transfers work on.
#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "runtime/memory_planner.h"
#include "runtime/session_impl.h"

namespace qrt::runtime {

using namespace detail;

namespace {

// Every host arena buffer starts on a 64-byte boundary (cache line, AVX-512 vector); device buffers
// on 256 bytes, the alignment cudaMalloc itself gives, which vector and TMA loads rely on.
constexpr std::size_t kHostAlignment = 64;
constexpr std::size_t kDeviceAlignment = 256;

}  // namespace

// The steps in execution order: each node on its kernel's side, preceded by a transfer for every
// input that does not live there yet, and followed at the end by transfers bringing device-made
// graph outputs back to the host. Constants are the kernels' business (prepare uploads them).
bool Session::Impl::place_steps(const std::vector<int>& order, std::vector<KernelEntry> entries) {
  const ir::Graph& g = *graph;
  std::vector<bool> available[kPlaces];
  for (auto& a : available) a.assign(g.values.size(), false);
  for (ir::ValueId v : g.inputs) available[kHost][static_cast<std::size_t>(v)] = true;
  const auto transfer = [&](ir::ValueId v, Place to) {
    Step step;
    step.place = to;
    step.value = v;
    steps.push_back(std::move(step));
    available[to][static_cast<std::size_t>(v)] = true;
  };
  bool any_device = false;
  all_on_device = !order.empty();
  for (std::size_t i = 0; i < order.size(); ++i) {
    const ir::Node& node = g.nodes[static_cast<std::size_t>(order[i])];
    const Place place = entries[i].device == Device::kCpu ? kHost : kOnDevice;
    any_device = any_device || place == kOnDevice;
    all_on_device = all_on_device && place == kOnDevice;
    for (ir::ValueId v : node.inputs)
      if (v != ir::kNoValue && !value(v).is_constant() &&
          !available[place][static_cast<std::size_t>(v)])
        transfer(v, place);
    Step step;
    step.node_index = order[i];
    step.place = place;
    step.entry = std::move(entries[i]);
    steps.push_back(std::move(step));
    for (ir::ValueId v : node.outputs)
      if (v != ir::kNoValue) available[place][static_cast<std::size_t>(v)] = true;
  }
  for (ir::ValueId v : g.outputs)
    if (!value(v).is_constant() && !available[kHost][static_cast<std::size_t>(v)])
      transfer(v, kHost);
  return any_device;
}

bool Session::Impl::shapes_changed() const {
  if (!planned) return true;
  for (std::size_t i = 0; i < bound.size(); ++i)
    if (bound[i]->shape != planned_shapes[i]) return true;
  return false;
}

// Infers every value's type for these input shapes, prepares fresh kernels, plans the arenas.
Status Session::Impl::plan(const std::vector<ir::Shape>& input_shapes) {
  planned = false;
  // The recording holds the old plan's pointers.
  if (captured) backend->discard_capture();
  captured = false;
  runs_since_plan = 0;
  auto inferred = ir::infer_shapes(*graph, input_shapes);
  if (!inferred.is_ok()) return inferred.status().with_context("inferring shapes");
  types = std::move(inferred).value();
  if (types.size() != graph->values.size())
    return internal_error("shape inference returned " + std::to_string(types.size()) +
                          " types for " + std::to_string(graph->values.size()) + " values");
  QRT_RETURN_IF_ERROR(prepare_kernels());
  QRT_RETURN_IF_ERROR(assign_storage());
  QRT_RETURN_IF_ERROR(build_views());
  capturable = all_on_device && options.capture_graphs && backend && backend->can_capture();
  for (const Step& step : steps)
    if (!step.is_transfer()) capturable = capturable && step.kernel->capturable();
  planned_shapes = input_shapes;
  planned = true;
  return Status::ok();
}

Status Session::Impl::prepare_kernels() {
  for (Step& step : steps) {
    if (step.is_transfer()) continue;
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
  return Status::ok();
}

// Lifetimes of every value bytes on each side and of every workspace, planned into one arena per
// side. Step s is the s-th step (transfers included); a graph input's host staging is written
// before step 0, and graph outputs stay alive one step past the last so that they can be copied out
// after the run.
Status Session::Impl::assign_storage() {
  const ir::Graph& g = *graph;
  const int end_step = static_cast<int>(steps.size());
  slots.assign(g.values.size(), ValueSlot{});
  for (std::size_t i = 0; i < g.inputs.size(); ++i) {
    slots[static_cast<std::size_t>(g.inputs[i])].storage = Storage::kGraphInput;
    slots[static_cast<std::size_t>(g.inputs[i])].input_index = i;
  }
  for (std::size_t v = 0; v < g.values.size(); ++v)
    if (g.values[v].is_constant()) slots[v].storage = Storage::kConstant;

  std::vector<int> first[kPlaces], last[kPlaces];
  for (Place p : {kHost, kOnDevice}) {
    first[p].assign(g.values.size(), -1);
    last[p].assign(g.values.size(), -1);
  }
  const auto touch = [&](ir::ValueId v, Place p, int s) {
    const auto i = static_cast<std::size_t>(v);
    if (slots[i].storage == Storage::kConstant) return;
    // A host step reads a graph input in place from the caller's tensor.
    if (p == kHost && slots[i].storage == Storage::kGraphInput) return;
    if (first[p][i] < 0) first[p][i] = s;
    last[p][i] = std::max(last[p][i], s);
  };
  for (std::size_t s = 0; s < steps.size(); ++s) {
    const Step& step = steps[s];
    const int at = static_cast<int>(s);
    if (step.is_transfer()) {
      const Place from = step.place == kHost ? kOnDevice : kHost;
      const auto i = static_cast<std::size_t>(step.value);
      if (from == kHost && slots[i].storage == Storage::kGraphInput) {
        first[kHost][i] = 0;  // staged before the first step
        last[kHost][i] = at;
      }
      touch(step.value, from, at);
      touch(step.value, step.place, at);
      continue;
    }
    const ir::Node& node = g.nodes[static_cast<std::size_t>(step.node_index)];
    for (ir::ValueId v : node.outputs)
      if (v != ir::kNoValue) touch(v, step.place, at);
    for (ir::ValueId v : node.inputs)
      if (v != ir::kNoValue) touch(v, step.place, at);
  }
  for (ir::ValueId v : g.outputs)
    if (first[kHost][static_cast<std::size_t>(v)] >= 0)
      last[kHost][static_cast<std::size_t>(v)] = end_step;

  std::vector<BufferLifetime> buffers[kPlaces];
  std::vector<ir::ValueId> buffer_value[kPlaces];  // kNoValue: the workspace of step `buffer_step`
  std::vector<std::size_t> buffer_step[kPlaces];
  // Sum of aligned sizes: an upper bound of the arenas, checked for overflow.
  std::size_t total = 0;
  auto add = [&](Place p, std::size_t bytes, int first_step, int last_step, ir::ValueId v,
                 std::size_t step) -> Status {
    const std::size_t limit = std::numeric_limits<std::size_t>::max() / 2;
    if (bytes > limit || total > limit - bytes)
      return out_of_memory("activation memory does not fit in the address space");
    total += (bytes + kDeviceAlignment - 1) / kDeviceAlignment * kDeviceAlignment;
    buffers[p].push_back({bytes, first_step, last_step});
    buffer_value[p].push_back(v);
    buffer_step[p].push_back(step);
    return Status::ok();
  };
  for (std::size_t v = 0; v < g.values.size(); ++v) {
    for (Place p : {kHost, kOnDevice}) {
      if (first[p][v] < 0) continue;
      const ir::TensorType& t = types[v];
      auto count = ir::checked_numel(t.shape);
      if (!count.is_ok())
        return internal_error("value '" + g.values[v].name + "': " + count.status().message());
      auto bytes = ir::storage_bytes(t.dtype, *count);
      if (!bytes.is_ok())
        return out_of_memory("value '" + g.values[v].name + "': " + bytes.status().message());
      QRT_RETURN_IF_ERROR(add(p, *bytes, first[p][v], last[p][v], static_cast<ir::ValueId>(v), 0));
      slots[v].in_arena[p] = true;
      if (p == kHost && slots[v].storage == Storage::kAbsent) slots[v].storage = Storage::kArena;
    }
  }
  for (std::size_t s = 0; s < steps.size(); ++s)
    if (steps[s].workspace_bytes > 0)
      QRT_RETURN_IF_ERROR(add(steps[s].place, steps[s].workspace_bytes, static_cast<int>(s),
                              static_cast<int>(s), ir::kNoValue, s));

  for (Place p : {kHost, kOnDevice}) {
    const MemoryPlan plan = plan_memory(buffers[p], p == kHost ? kHostAlignment : kDeviceAlignment);
    for (std::size_t b = 0; b < buffers[p].size(); ++b) {
      if (buffer_value[p][b] == ir::kNoValue)
        steps[buffer_step[p][b]].workspace_offset = plan.offsets[b];
      else
        slots[static_cast<std::size_t>(buffer_value[p][b])].offset[p] = plan.offsets[b];
    }
    arenas[p].bytes = plan.arena_bytes;
    if (p == kHost || backend) QRT_RETURN_IF_ERROR(grow_arena(p));
  }

  staged_inputs.clear();
  for (std::size_t i = 0; i < g.inputs.size(); ++i) {
    const ValueSlot& slot = slots[static_cast<std::size_t>(g.inputs[i])];
    if (slot.in_arena[kHost]) staged_inputs.push_back({i, slot.offset[kHost]});
  }
  return Status::ok();
}

// Grow only: a plan for smaller shapes reuses the arena it already has.
Status Session::Impl::grow_arena(Place place) {
  Arena& arena = arenas[place];
  if (arena.base() != nullptr && arena.capacity >= arena.bytes) return Status::ok();
  arena.memory.reset();  // release the old arena before taking the new one
  arena.capacity = 0;
  if (!backend) {
    auto fresh = Tensor::allocate(ir::DType::kU8, {static_cast<int64_t>(arena.bytes)});
    if (!fresh.is_ok()) return fresh.status().with_context("allocating the activation arena");
    auto owner = std::make_shared<Tensor>(std::move(fresh).value());
    arena.memory = std::shared_ptr<std::byte>(owner, static_cast<std::byte*>(owner->data()));
    arena.capacity = arena.bytes;
    return Status::ok();
  }
  // At least one byte, so that zero-byte values still get a non-null pointer.
  const std::size_t bytes = std::max<std::size_t>(arena.bytes, 1);
  DeviceBackend* owner = backend.get();
  auto data = place == kHost ? owner->allocate_host(bytes) : owner->allocate_device(bytes);
  if (!data.is_ok())
    return data.status().with_context(std::string("allocating the ") +
                                      device_name(device_of(place)) + " activation arena");
  arena.memory =
      std::shared_ptr<std::byte>(static_cast<std::byte*>(*data), [owner, place](std::byte* p) {
        if (place == kHost)
          owner->free_host(p);
        else
          owner->free_device(p);
      });
  arena.capacity = bytes;
  return Status::ok();
}

// The bytes of a value on `place` (not a graph input read in place). Zero-byte values still get a
// non-null pointer (the arena base), since a null pointer marks an absent optional input.
const void* Session::Impl::value_data(ir::ValueId v, Place place) const {
  const ValueSlot& slot = slots[static_cast<std::size_t>(v)];
  if (slot.storage == Storage::kConstant) {
    const std::byte* p = value(v).data->data();
    return p != nullptr ? p : arena_base(kHost);
  }
  return arena_base(place) + slot.offset[place];
}

// Views handed to kernels and the ends of every transfer: fixed for this plan; graph inputs read
// on the host are patched per run.
Status Session::Impl::build_views() {
  input_uses.clear();
  for (std::size_t s = 0; s < steps.size(); ++s) {
    Step& step = steps[s];
    if (step.is_transfer()) {
      const Place from = step.place == kHost ? kOnDevice : kHost;
      const ir::TensorType& t = types[static_cast<std::size_t>(step.value)];
      const ValueSlot& slot = slots[static_cast<std::size_t>(step.value)];
      if (!slot.in_arena[kHost] || !slot.in_arena[kOnDevice])
        return internal_error("value '" + value(step.value).name + "' has no storage to copy " +
                              device_name(device_of(from)) + " -> " +
                              device_name(device_of(step.place)));
      step.source = value_data(step.value, from);
      step.destination = arena_base(step.place) + slot.offset[step.place];
      step.bytes = ir::storage_bytes(t.dtype, ir::numel(t.shape)).value();
      continue;
    }
    const ir::Node& node = graph->nodes[static_cast<std::size_t>(step.node_index)];
    step.inputs.assign(node.inputs.size(), ConstTensorView{});
    step.outputs.assign(node.outputs.size(), TensorView{});
    for (std::size_t i = 0; i < node.inputs.size(); ++i) {
      const ir::ValueId v = node.inputs[i];
      if (v == ir::kNoValue) continue;
      const ir::TensorType& t = types[static_cast<std::size_t>(v)];
      const ValueSlot& slot = slots[static_cast<std::size_t>(v)];
      ConstTensorView& view = step.inputs[i];
      view.dtype = t.dtype;
      view.shape = t.shape;
      if (slot.storage == Storage::kConstant) {
        view.device = Device::kCpu;  // device kernels upload their constants at prepare
        view.data = value_data(v, kHost);
        continue;
      }
      view.device = device_of(step.place);
      if (step.place == kHost && slot.storage == Storage::kGraphInput) {
        input_uses.push_back({s, i, slot.input_index});
      } else if (!slot.in_arena[step.place]) {
        return internal_error(node_desc(node) + ": input '" + value(v).name + "' has no storage");
      } else {
        view.data = value_data(v, step.place);
      }
    }
    for (std::size_t o = 0; o < node.outputs.size(); ++o) {
      const ir::ValueId v = node.outputs[o];
      if (v == ir::kNoValue) continue;
      const ir::TensorType& t = types[static_cast<std::size_t>(v)];
      const ValueSlot& slot = slots[static_cast<std::size_t>(v)];
      if (!slot.in_arena[step.place])
        return internal_error(node_desc(node) + ": output '" + value(v).name +
                              "' is not an activation");
      step.outputs[o] =
          TensorView{t.dtype, t.shape, arena_base(step.place) + slot.offset[step.place],
                     device_of(step.place)};
    }
  }
  return Status::ok();
}

}  // namespace qrt::runtime
