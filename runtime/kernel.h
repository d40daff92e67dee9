// The kernel interface every backend implements, one object per node per session.
//
// Kernels follow prepare/run: prepare sees the node, its concrete input/output types and the
// constant inputs (weights), validates everything and precomputes (packed weights, workspace size);
// run assumes what prepare checked, allocates nothing and checks only data-dependent values.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/tensor.h"

namespace qrt::runtime {

struct PrepareContext {
  const ir::Graph& graph;
  const ir::Node& node;
  // Concrete types of node.inputs / node.outputs (absent optional inputs: nullptr).
  std::vector<const ir::TensorType*> input_types;
  std::vector<const ir::TensorType*> output_types;
};

struct RunContext {
  std::span<const ConstTensorView> inputs;  // same order as node.inputs; absent: data == nullptr
  std::span<const TensorView> outputs;
  void* workspace = nullptr;  // workspace_bytes() bytes, 64-byte aligned, or nullptr when 0
  // Kernels of a device backend: the session's stream (cudaStream_t for kCuda), on which run()
  // enqueues its work without synchronizing; views and workspace then hold device memory, except
  // constant inputs (weights), which stay host views of the graph's bytes: prepare uploads what the
  // kernel needs. Null on the CPU.
  void* stream = nullptr;
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual Status prepare(const PrepareContext& ctx) = 0;
  // Scratch memory run() needs; valid after prepare. Planned into the session's arena.
  virtual std::size_t workspace_bytes() const { return 0; }
  virtual Status run(const RunContext& ctx) = 0;
  // After prepare: how this kernel runs the node when that is worth showing (the vector path it
  // picked, a projection it runs in float because the quantized one would lose); empty by
  // default. Session::kernel_names appends it in parentheses.
  virtual std::string describe() const { return {}; }
  // Whether run() only enqueues work on ctx.stream that a stream capture can record and replay with
  // the same pointers (no synchronization, allocation or host-side reads of device results). A
  // Session records its forward into a CUDA graph only when every kernel says so.
  virtual bool capturable() const { return true; }
};

}  // namespace qrt::runtime
