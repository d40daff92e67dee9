// Runs the CUDA registry entry for the one node of a test case (tests/ops/quantized_harness.h's
// QCase) through the Kernel interface only, as a session's device step would: registry ->
// create -> prepare -> run with kCuda views, a device workspace and its own stream. Outputs and
// workspace are NaN-poisoned before the run and outputs are followed by a canary, so an element
// the kernel does not write, or a write past the end, fails the test. Header-only; executables
// that include it link qrt_cuda, qrt_ops and qrt_quantized_test_harness.
#pragma once

#include <doctest/doctest.h>

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "cuda/device_buffer.h"
#include "cuda/register.h"
#include "ir/graph.h"
#include "runtime/kernel_registry.h"
#include "tests/cuda/cuda_test_support.h"
#include "tests/ops/quantized_harness.h"
#include "tests/support/gpu_guard.h"

namespace qrt::testing {

inline constexpr unsigned char kNanPoison = 0xFF;  // every f32 made of 0xFF bytes is a NaN
inline constexpr std::size_t kCanaryBytes = 64;

struct CudaKernelRun {
  std::string entry;  // the kCuda registry entry that supports the node; "" when none does
  Status prepared;    // prepare's result (kDeviceError "no CUDA device" without a GPU)
  bool ran = false;   // a device was usable and run() was called
  Status run_status;  // run()'s result, then the stream's synchronization
  std::vector<std::vector<float>> outputs;  // one per node output, canaries removed
};

inline CudaKernelRun run_cuda_kernel(const QCase& c) {
  CudaKernelRun result;
  const ir::Graph graph = quantized_graph(c);
  const ir::Node& node = graph.nodes[0];
  runtime::KernelRegistry registry;
  cuda::register_cuda_kernels(registry);
  const runtime::KernelEntry* entry = registry.find(graph, node, runtime::Device::kCuda);
  if (entry == nullptr) return result;
  result.entry = entry->name;

  const auto type_of = [&](ir::ValueId id) {
    const ir::Value& v = graph.values[static_cast<std::size_t>(id)];
    return ir::TensorType{v.dtype, v.shape};
  };
  std::vector<ir::TensorType> in_types, out_types;
  for (ir::ValueId id : node.inputs)
    in_types.push_back(id == ir::kNoValue ? ir::TensorType{} : type_of(id));
  for (ir::ValueId id : node.outputs) out_types.push_back(type_of(id));
  runtime::PrepareContext prepare{graph, node, {}, {}};
  for (std::size_t i = 0; i < node.inputs.size(); ++i)
    prepare.input_types.push_back(node.inputs[i] == ir::kNoValue ? nullptr : &in_types[i]);
  for (const ir::TensorType& t : out_types) prepare.output_types.push_back(&t);

  auto kernel = entry->create();
  result.prepared = kernel->prepare(prepare);
  if (!result.prepared.is_ok() || !gpu_unavailable_reason().empty()) return result;

  std::vector<cuda::DeviceBuffer> in_buffers;
  std::vector<runtime::ConstTensorView> in_views(node.inputs.size());
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    if (node.inputs[i] == ir::kNoValue) continue;
    const ir::Value& v = graph.values[static_cast<std::size_t>(node.inputs[i])];
    if (v.is_constant()) {
      // As a session does (runtime/kernel.h): constants stay host views of the graph's bytes,
      // which the kernel uploaded in prepare. Never null: null marks an absent input.
      static const std::byte kEmpty{};
      const void* host = v.data->data() != nullptr ? v.data->data() : &kEmpty;
      in_views[i] = {v.dtype, v.shape, host, runtime::Device::kCpu};
      continue;
    }
    in_buffers.push_back(upload(c.inputs[i].data));
    in_views[i] = {v.dtype, v.shape, in_buffers.back().data(), runtime::Device::kCuda};
  }
  std::vector<cuda::DeviceBuffer> out_buffers;
  std::vector<runtime::TensorView> out_views;
  for (const ir::TensorType& t : out_types) {
    const auto bytes = static_cast<std::size_t>(ir::numel(t.shape)) * sizeof(float);
    out_buffers.push_back(poisoned(bytes + kCanaryBytes, kNanPoison));
    out_views.push_back({t.dtype, t.shape, out_buffers.back().data(), runtime::Device::kCuda});
  }
  // The session's arena promises 64-byte alignment only: the workspace starts 64 bytes past the
  // 256-byte-aligned cudaMalloc base, so a kernel that needs more must align it itself.
  constexpr std::size_t kWorkspaceShift = 64;
  const std::size_t workspace_bytes = kernel->workspace_bytes();
  cuda::DeviceBuffer workspace = poisoned(workspace_bytes + kWorkspaceShift, kNanPoison);
  void* workspace_start = workspace_bytes > 0
                              ? static_cast<unsigned char*>(workspace.data()) + kWorkspaceShift
                              : nullptr;
  cudaStream_t stream = nullptr;
  REQUIRE(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) == cudaSuccess);
  runtime::RunContext run{in_views, out_views, workspace_start, stream};
  result.ran = true;
  result.run_status = kernel->run(run);
  const cudaError_t synced = cudaStreamSynchronize(stream);
  REQUIRE(cudaStreamDestroy(stream) == cudaSuccess);
  if (result.run_status.is_ok() && synced != cudaSuccess)
    result.run_status = device_error(std::string("after run: ") + cudaGetErrorString(synced));
  if (!result.run_status.is_ok()) return result;
  for (std::size_t i = 0; i < out_types.size(); ++i)
    result.outputs.push_back(download_checked<float>(
        out_buffers[i], static_cast<std::size_t>(ir::numel(out_types[i].shape)), kNanPoison));
  return result;
}

// Prepares and (with a GPU) runs the case on its CUDA entry `expected_entry`; without a GPU checks
// that prepare failed cleanly, naming the node, and returns false. With a GPU: true after a
// successful run.
inline bool run_on_gpu_or_skip(const QCase& c, const std::string& expected_entry,
                               CudaKernelRun& run) {
  run = run_cuda_kernel(c);
  CHECK(run.entry == expected_entry);
  if (run.entry != expected_entry) return false;
  if (!gpu_unavailable_reason().empty()) {
    CHECK(run.prepared.code() == StatusCode::kDeviceError);
    CHECK(contains(run.prepared.message(), "node 'op_under_test'"));
    return false;
  }
  REQUIRE_MESSAGE(run.prepared.is_ok(), run.prepared.to_string());
  REQUIRE_MESSAGE(run.run_status.is_ok(), run.run_status.to_string());
  return true;
}

// Every GPU output is finite and within `relative`·max|cpu| + `absolute` of the CPU reference
// kernel's; the reference is not all zeros (a comparison of zeros proves nothing).
inline void check_close(const std::vector<float>& gpu, const std::vector<float>& cpu,
                        double relative, double absolute = 0.0) {
  REQUIRE(gpu.size() == cpu.size());
  double scale = 0.0;
  for (float v : cpu) scale = std::max(scale, std::fabs(static_cast<double>(v)));
  CHECK(scale > 0.0);
  const double tolerance = relative * scale + absolute;
  std::size_t bad = 0, first_bad = 0;
  double worst = 0.0;
  for (std::size_t i = 0; i < gpu.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(gpu[i]) - cpu[i]);
    if (!std::isfinite(gpu[i]) || !(diff <= tolerance)) {
      if (bad++ == 0) first_bad = i;
    } else {
      worst = std::max(worst, diff);
    }
  }
  CHECK_MESSAGE(bad == 0, bad << " of " << gpu.size() << " outputs differ beyond " << tolerance
                              << " (max |cpu| " << scale << "); first at " << first_bad << ": gpu "
                              << gpu[first_bad] << ", cpu " << cpu[first_bad]);
  MESSAGE("worst difference " << worst << " (tolerance " << tolerance << ")");
}

}  // namespace qrt::testing
