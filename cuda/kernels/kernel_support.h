// What the CUDA registry entries (cuda/kernels/*_kernel.*) share: graph-form predicates for
// `supports`, prepare-time checks that name the node, uploading constants once per prepare, and
// the run-time contract of a device step (kCuda views, the session's stream).
//
// The graph forms themselves are ir/precision_forms.h, shared with the CPU kernels.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cuda/device.h"
#include "cuda/device_buffer.h"
#include "ir/graph.h"
#include "ir/precision.h"
#include "ir/precision_forms.h"
#include "runtime/kernel.h"
#include "runtime/kernel_registry.h"

namespace qrt::cuda::kernels {

// "node 'fc1' (Linear): <message>" as kInvalidModel / kUnsupported.
Status node_error(const ir::Node& node, const std::string& message);
Status node_unsupported(const ir::Node& node, const std::string& message);

// `status` with its message prefixed by a node label ("node 'fc1' (Linear): "); ok stays ok.
Status labeled(const std::string& label, const Status& status);

// The graph-form predicates shared with the CPU backend (ir/precision_forms.h).
using ir::activation_has_form;
using ir::all_f32_data;
using ir::bias_has_form;
using ir::is_plain_f32;
using ir::node_precision;
using ir::value_of;
using ir::weight_has_form;
using FixedQuant = ir::FixedActivationQuant;

// The per-output-channel scales of an int8 weight [N, K]: N finite positive values.
Result<std::vector<float>> int8_weight_scales(const ir::Node& node, const ir::Value& w, int64_t n);
// The bytes of constant `v`, at least `bytes` of them, or an error naming the node and value.
Result<const unsigned char*> constant_bytes(const ir::Node& node, const ir::Value& v,
                                            std::size_t bytes);
// An f32 or f16 constant vector of n values (a bias, LayerNorm's gamma / beta) decoded to f32.
Result<std::vector<float>> constant_floats(const ir::Node& node, const ir::Value& v, int64_t n);

// Runs ir::infer_node on the prepare context's input types and checks that every output type the
// session planned is the inferred one: validates attributes and shapes the way the graph does.
Status check_inferred_outputs(const runtime::PrepareContext& ctx);

// The current device's properties, or a failure naming the node when no CUDA device is usable
// (checked before anything touches the device).
Result<DeviceInfo> require_device(const ir::Node& node);

// A device copy of `count` elements at `host` (synchronous: prepare only). count == 0 gives an
// empty buffer.
Result<DeviceBuffer> upload_bytes(const void* host, std::size_t bytes);
template <typename T>
Result<DeviceBuffer> upload(const std::vector<T>& host) {
  return upload_bytes(host.data(), host.size() * sizeof(T));
}

// The run-time contract of a kCuda step: `inputs` / `outputs` views (present ones) are kCuda
// device memory and the counts match the node. Checks only the views' metadata, never the data.
// A Session hands a device kernel its constant inputs as host (kCpu) views of the graph's bytes
// (runtime/kernel.h, RunContext::stream); inputs flagged in `host_inputs` are those constants,
// which the kernel uploaded in prepare and does not read through the view: they are not checked.
Status check_device_views(const std::string& label, const runtime::RunContext& ctx,
                          std::size_t num_inputs, std::size_t num_outputs,
                          const std::vector<bool>& host_inputs = {});

// Device copies of a node's constant inputs, uploaded once in prepare, for kernels that read an
// input which may be a constant (Add's bias, a constant initial LSTM state): the session passes
// constants as host views (see check_device_views), so run() takes them from here instead.
class ConstantInputs {
 public:
  // Uploads the bytes of every constant among the first `count` inputs of ctx.node.
  Status upload(const runtime::PrepareContext& ctx, std::size_t count);
  // One flag per input uploaded here (check_device_views' `host_inputs`).
  const std::vector<bool>& flags() const { return constant_; }
  // Input i's device data: the uploaded constant, else the (kCuda) view's.
  const void* data(const runtime::RunContext& ctx, std::size_t i) const {
    return i < constant_.size() && constant_[i] ? buffers_[i].data() : ctx.inputs[i].data;
  }

 private:
  std::vector<bool> constant_;
  std::vector<DeviceBuffer> buffers_;
};
inline cudaStream_t stream_of(const runtime::RunContext& ctx) {
  return static_cast<cudaStream_t>(ctx.stream);
}

// Grid-stride elementwise kernels: kElementwiseThreads per block and only enough blocks to fill
// the GPU (a few resident blocks per SM hide memory latency; more only add scheduling work).
inline constexpr int kElementwiseThreads = 256;
inline unsigned elementwise_blocks(int64_t n, int multiprocessors) {
  const int64_t needed = (n + kElementwiseThreads - 1) / kElementwiseThreads;
  const int64_t most = int64_t{8} * (multiprocessors > 0 ? multiprocessors : 1);
  return static_cast<unsigned>(needed < 1 ? 1 : (needed < most ? needed : most));
}

// Device memory, 256-byte aligned slices of one workspace: the alignment cudaMalloc gives, which
// the int8 GEMM's 16-byte loads and cublasSetWorkspace (256 bytes) need. The session's workspace
// is only 64-byte aligned, so the first slice starts at the next 256-byte boundary, and the count
// reserves room for that shift. With a null base it only counts, so the same take() sequence gives
// workspace_bytes() in prepare and the pointers in run.
class DeviceWorkspace {
 public:
  explicit DeviceWorkspace(void* base = nullptr)
      : base_(static_cast<unsigned char*>(base)), used_(base == nullptr ? kAlign : 0) {
    if (base_ != nullptr)
      base_ += (kAlign - reinterpret_cast<std::uintptr_t>(base_) % kAlign) % kAlign;
  }
  template <typename T>
  T* take(int64_t count) {
    return static_cast<T*>(take_bytes(static_cast<std::size_t>(count) * sizeof(T)));
  }
  void* take_bytes(std::size_t bytes) {
    void* p = base_ == nullptr || bytes == 0 ? nullptr : base_ + used_;
    used_ += (bytes + kAlign - 1) / kAlign * kAlign;
    return p;
  }
  // Bytes to ask of the session (counting mode: the slices plus the alignment reserve).
  std::size_t used() const { return used_; }

 private:
  static constexpr std::size_t kAlign = 256;
  unsigned char* base_;
  std::size_t used_;
};

// A registry entry of device kCuda named `name` for `op`.
void add_cuda_entry(runtime::KernelRegistry& registry, ir::OpKind op, std::string name,
                    std::function<bool(const ir::Graph&, const ir::Node&)> supports,
                    std::function<std::unique_ptr<runtime::Kernel>()> create);

}  // namespace qrt::cuda::kernels
