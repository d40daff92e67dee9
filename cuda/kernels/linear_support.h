// What every CUDA Linear entry (one per precision) shares: which nodes it takes, the prepare-time
// shape checks, and the bias uploaded once.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <optional>
#include <string>

#include "cuda/activation.cuh"
#include "cuda/device_buffer.h"
#include "cuda/gemm_int8/epilogue.h"
#include "cuda/kernels/kernel_support.h"
#include "ir/graph.h"
#include "ir/precision.h"
#include "runtime/kernel.h"

namespace qrt::cuda::kernels {

// Linear inputs: x [..., K], weight [N, K], bias? [N].
inline constexpr std::size_t kLinearX = 0, kLinearWeight = 1, kLinearBias = 2;

// The node is a Linear recorded in `precision` whose tensors have that precision's graph form
// (ir/precision.h) and whose output is f32 data.
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
  // The node's fused activation (ir::LinearAttrs, set by ir::passes::fuse_activations), applied
  // after the bias as the CPU kernels do; none for a plain Linear.
  std::optional<ActivationKind> activation;
};

// The CUDA form of a fused activation; nullopt for kNone (and for a value outside the enum, which
// the model reader rejects before a kernel sees it).
std::optional<ActivationKind> cuda_activation(ir::FusedActivation activation);

// Puts the fused activation into an int8 GEMM epilogue (it runs on the dequantized, biased value).
void add_fused_activation(const LinearProblem& problem, gemm_int8::EpilogueSpec& epilogue);

// For the entries whose product has no activation epilogue (the weight-only launchers): applies
// the fused activation to y [M, N] in place, one elementwise launch; nothing for a plain Linear.
Status apply_fused_activation(const LinearProblem& problem, float* y, cudaStream_t stream);

// For the entries whose product takes f16 activations (cuBLAS fp16, the weight-only GEMV): takes
// the [M, K] f16 slice first from `ws` and fills it with x rounded to f16 on the run's stream.
Result<__half*> round_x_to_half(const LinearProblem& problem, const runtime::RunContext& ctx,
                                DeviceWorkspace& ws);

// ", fused gelu" for describe(), or empty.
std::string fused_activation_note(const LinearProblem& problem);

// Validates the node for the `precision` entry (record, forms, shapes against ir::infer_node, a
// usable device) and returns its sizes.
Result<LinearProblem> check_linear(ir::Precision precision, const runtime::PrepareContext& ctx);

// The bias as f32 [N] in device memory (decoded from f16 for fp16); an empty buffer when absent.
Result<DeviceBuffer> upload_linear_bias(const ir::Node& node, const LinearProblem& problem);

// The run-time view checks every Linear entry makes (kCuda views, one output).
Status check_linear_views(const LinearProblem& problem, const runtime::RunContext& ctx);

}  // namespace qrt::cuda::kernels
