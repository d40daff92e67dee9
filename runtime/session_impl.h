// Internal to the runtime: the state of a Session (runtime/session.h) shared by its planning
// (session_plan.cpp) and its running (session.cpp).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "runtime/device_backend.h"
#include "runtime/kernel_registry.h"
#include "runtime/session.h"

namespace qrt::runtime {

namespace detail {

inline std::string node_desc(const ir::Node& node) {
  return "node '" + node.name + "' (" + ir::op_name(node.op) + ")";
}

// The two sides a value can live on: the host, and the session's device (options.device).
enum Place : std::size_t { kHost = 0, kOnDevice = 1, kPlaces = 2 };

// What a value is on the host side.
enum class Storage { kAbsent, kGraphInput, kConstant, kArena };

struct ValueSlot {
  Storage storage = Storage::kAbsent;
  std::size_t input_index = 0;  // kGraphInput: position in graph.inputs
  // Arena bytes of the value on each side, when it has them. A graph input consumed on the device
  // has host arena bytes too: the staging its transfer reads, filled from the caller's tensor.
  bool in_arena[kPlaces] = {false, false};
  std::size_t offset[kPlaces] = {0, 0};
};

// A graph input read by a host step: its pointer is patched into the step's view at every run.
struct InputUse {
  std::size_t step;
  std::size_t position;
  std::size_t input_index;
};

// A graph input copied into its host staging at the start of every run.
struct StagedInput {
  std::size_t input_index;
  std::size_t offset;
};

// One step of the plan: a node's kernel, or a transfer of a value to the other side.
struct Step {
  int node_index = -1;               // -1: a transfer
  Place place = kHost;               // where the kernel runs; for a transfer, the side it copies to
  ir::ValueId value = ir::kNoValue;  // a transfer: the value copied
  KernelEntry entry;
  std::unique_ptr<Kernel> kernel;
  std::vector<ConstTensorView> inputs;
  std::vector<TensorView> outputs;
  std::size_t workspace_bytes = 0;
  std::size_t workspace_offset = 0;
  // A transfer, for the current plan.
  const void* source = nullptr;
  void* destination = nullptr;
  std::size_t bytes = 0;

  bool is_transfer() const { return node_index < 0; }
};

// Arena bytes: a host Tensor for a CPU-only session, else memory from its DeviceBackend.
struct Arena {
  std::shared_ptr<std::byte> memory;
  std::size_t capacity = 0;
  std::size_t bytes = 0;  // the current plan's peak
  std::byte* base() const { return memory.get(); }
};

}  // namespace detail

struct Session::Impl {
  std::shared_ptr<const ir::Graph> graph;
  SessionOptions options;
  // Declared before the arenas and the steps: it frees their memory, so it is destroyed last.
  std::unique_ptr<DeviceBackend> backend;
  std::vector<detail::Step> steps;  // execution order, transfers included
  bool all_on_device = false;

  // The current plan, valid when `planned`: built for `planned_shapes` (one per graph input).
  bool planned = false;
  std::vector<ir::Shape> planned_shapes;
  std::vector<ir::TensorType> types;     // per value
  std::vector<detail::ValueSlot> slots;  // per value
  std::vector<detail::InputUse> input_uses;
  std::vector<detail::StagedInput> staged_inputs;
  detail::Arena arenas[detail::kPlaces];

  // Recording of the forward: possible for this plan, runs since the plan, recorded.
  bool capturable = false;
  int runs_since_plan = 0;
  bool captured = false;
  bool replayed_last_run = false;

  // Reused by every run so that a run with unchanged shapes allocates only its outputs.
  std::vector<const ConstTensorView*> bound;

  const ir::Value& value(ir::ValueId v) const { return graph->values[static_cast<std::size_t>(v)]; }
  std::byte* arena_base(detail::Place place) const { return arenas[place].base(); }
  Device device_of(detail::Place place) const {
    return place == detail::kHost ? Device::kCpu : options.device;
  }

  // Returns whether any step runs on the device.
  bool place_steps(const std::vector<int>& order, std::vector<KernelEntry> entries);
  Status plan(const std::vector<ir::Shape>& input_shapes);
  Status prepare_kernels();
  Status assign_storage();
  Status grow_arena(detail::Place place);
  Status build_views();
  bool shapes_changed() const;
  const void* value_data(ir::ValueId v, detail::Place place) const;
  Status run_steps(const ValueObserver* observer);
  Status record_and_replay();
  Status observe_device_value(const ir::Value& value, const ConstTensorView& view,
                              const ValueObserver& observer);
};

}  // namespace qrt::runtime
