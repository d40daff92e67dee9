// What every CUDA Linear entry (one per precision) shares: which nodes it takes, the prepare-time
// shape checks, and the bias uploaded once.
#pragma once

#include <cstdint>
#include <string>

#include "cuda/device_buffer.h"
#include "ir/graph.h"
#include "ir/precision.h"
#include "runtime/kernel.h"

namespace qrt::cuda::kernels {

// Linear inputs: x [..., K], weight [N, K], bias? [N].
inline constexpr std::size_t kLinearX = 0, kLinearWeight = 1, kLinearBias = 2;

// The node is a Linear recorded in `precision` whose tensors have that precision's graph form
// (ir/precision.h) and whose output is plain f32.
bool supports_linear(ir::Precision precision, const ir::Graph& graph, const ir::Node& node);

struct LinearProblem {
  const ir::Value* x = nullptr;
  const ir::Value* weight = nullptr;
  const ir::Value* bias = nullptr;  // null when absent
  int64_t M = 0;                    // product of x's leading dims
  int64_t N = 0;
  int64_t K = 0;
  int multiprocessors = 1;  // of the current device
  int compute_major = 0;    // its compute capability
  std::string label;        // "node 'fc1' (Linear): "
};

// Validates the node for the `precision` entry (record, forms, shapes against ir::infer_node, a
// usable device) and returns its sizes.
Result<LinearProblem> check_linear(ir::Precision precision, const runtime::PrepareContext& ctx);

// The bias as f32 [N] in device memory (decoded from f16 for fp16); an empty buffer when absent.
Result<DeviceBuffer> upload_linear_bias(const ir::Node& node, const LinearProblem& problem);

// The run-time view checks every Linear entry makes (kCuda views, one output).
Status check_linear_views(const LinearProblem& problem, const runtime::RunContext& ctx);

}  // namespace qrt::cuda::kernels
