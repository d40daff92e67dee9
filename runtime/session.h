// Session: loads a verified graph onto a backend, plans its memory and runs it.
//
// Thread safety: a Session is used by one thread at a time. The Graph it runs is shared and never
// modified, so any number of Sessions over one loaded model may run concurrently on different
// threads.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/kernel_registry.h"
#include "runtime/tensor.h"

namespace qrt::runtime {

struct SessionOptions {
  Device device = Device::kCpu;
  // Strict: fail (naming the node) when a node has no kernel on `device`, instead of falling back.
  bool strict = false;
  // When every step runs on the device: record the forward (input and output transfers included)
  // on the second run with unchanged shapes and replay the recording from then on (CUDA graphs).
  bool capture_graphs = true;
};

struct NamedTensor {
  std::string name;
  ConstTensorView tensor;
};

// Called during a run with each value the moment it holds its data: every graph input before the
// first node, then every output of each node right after that node ran. The view is valid only
// during the call (the arena reuses the bytes later). A non-ok Status stops the run, which returns
// it with the value's name as context. Used by calibration (runtime/calibration.h) and for
// debugging.
using ValueObserver = std::function<Status(const ir::Value&, const ConstTensorView&)>;

// Placement: each node runs on the device of its kernel. A value lives where its producer runs
// (graph inputs on the host); a consumer on the other side reads a mirror filled by a transfer step
// the session inserts, and graph outputs made on the device are copied back at the end. Host and
// device activations are planned into one arena each; a session with device steps gets its
// DeviceBackend (stream, arenas, recording) from the registry's factory for options.device.
class Session {
 public:
  // Verifies the graph, picks a kernel per node from `registry`, infers shapes from the graph's
  // declared input shapes (dynamic dims are fixed at the first run) and prepares. The registry must
  // outlive the call only; the graph is shared.
  static Result<std::unique_ptr<Session>> create(std::shared_ptr<const ir::Graph> graph,
                                                 const KernelRegistry& registry,
                                                 SessionOptions options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs the graph. Inputs are matched by name; every graph input must be given, f32, with a shape
  // that matches the declared one (dynamic dims free). New input shapes re-plan (allocation happens
  // then, never on a repeated run with the same shapes). Returns the outputs in graph output order.
  Result<std::vector<Tensor>> run(const std::vector<NamedTensor>& inputs);
  // The same run, showing every graph input and node output to `observer` (see ValueObserver).
  Result<std::vector<Tensor>> run(const std::vector<NamedTensor>& inputs,
                                  const ValueObserver& observer);

  const ir::Graph& graph() const;
  std::vector<std::string> input_names() const;
  std::vector<std::string> output_names() const;
  // Bytes of the host activation arena for the current shapes (the memory planner's peak).
  std::size_t arena_bytes() const;
  // Bytes of the device activation arena for the current shapes; 0 without device steps.
  std::size_t device_arena_bytes() const;
  // Every step in execution order: the kernel chosen for each node ("fc1: cpu.reference.linear",
  // "fc2: cuda.gemm"), and the transfers placement inserted ("fc1_out: copy cpu -> cuda").
  std::vector<std::string> kernel_names() const;
  // Whether the last run replayed a recorded forward.
  bool replayed_last_run() const;

 private:
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  // `observer` may be null: the plain run pays nothing for the hook.
  Result<std::vector<Tensor>> run_observed(const std::vector<NamedTensor>& inputs,
                                           const ValueObserver* observer);
  std::unique_ptr<Impl> impl_;
};

}  // namespace qrt::runtime
