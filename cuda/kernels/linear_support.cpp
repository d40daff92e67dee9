#include "cuda/kernels/linear_support.h"

#include <variant>
#include <vector>

#include "cuda/gemm_int8/tile_config.h"
#include "cuda/kernels/kernel_support.h"
#include "cuda/kernels/round_to_half.cuh"
#include "cuda/weight_only/weight_only.cuh"
#include "ir/op_schema.h"

namespace qrt::cuda::kernels {

bool supports_linear(ir::Precision precision, const ir::Graph& graph, const ir::Node& node) {
  if (node.op != ir::OpKind::kLinear || node_precision(node) != precision) return false;
  if (node.inputs.size() < 2 || node.inputs.size() > 3 || node.outputs.size() != 1) return false;
  const ir::Value* x = value_of(graph, node.inputs[kLinearX]);
  const ir::Value* w = value_of(graph, node.inputs[kLinearWeight]);
  const ir::Value* y = value_of(graph, node.outputs[0]);
  const bool has_bias =
      node.inputs.size() > kLinearBias && node.inputs[kLinearBias] != ir::kNoValue;
  const ir::Value* b = has_bias ? value_of(graph, node.inputs[kLinearBias]) : nullptr;
  if (x == nullptr || w == nullptr || y == nullptr || (has_bias && b == nullptr)) return false;
  // prepare uploads the bias and run reads x from the device: a run-time bias (which the CPU
  // kernels accept) or a constant x would fail there, so such nodes stay with the CPU kernels.
  if (x->is_constant() || (b != nullptr && !b->is_constant())) return false;
  // y may carry calibration parameters for an int8-static reader (ir::is_f32_data), as the CPU
  // kernels accept: a fused Linear writes what its activation wrote; the bytes are float anyway.
  if (!activation_has_form(precision, *x) || !weight_has_form(precision, *w) ||
      !bias_has_form(precision, b) || !ir::is_f32_data(graph, node.outputs[0]))
    return false;
  // The GPU kernels' static limits on the weight [N, K] (K a multiple of 16, NF4 blocks dividing
  // K): kernel selection does not fall back after a failed prepare, so a node they cannot run is
  // declined here and a non-strict session gives it to the CPU kernels, which take any K.
  const int64_t n = w->shape[0], k = w->shape[1];
  switch (precision) {
    case ir::Precision::kInt8Dynamic:
    case ir::Precision::kInt8Static:
      return gemm_int8::can_implement(1, n, k, 0, {}).is_ok();
    case ir::Precision::kW8A16:
      return weight_only::can_implement_w8a16(1, n, k).is_ok();
    case ir::Precision::kNF4:
      return weight_only::can_implement_nf4(1, n, k, w->quant->block_size).is_ok();
    default:
      return true;
  }
}

Result<LinearProblem> check_linear(ir::Precision precision, const runtime::PrepareContext& ctx) {
  const ir::Node& node = ctx.node;
  LinearProblem p;
  p.label = ir::node_label(node);
  if (!supports_linear(precision, ctx.graph, node))
    return node_unsupported(node, std::string("not a Linear in the ") +
                                      ir::precision_name(precision) +
                                      " graph form this CUDA kernel reads (precision '" +
                                      node.precision.precision + "')");
  QRT_RETURN_IF_ERROR(check_inferred_outputs(ctx));
  p.x = value_of(ctx.graph, node.inputs[kLinearX]);
  p.weight = value_of(ctx.graph, node.inputs[kLinearWeight]);
  if (node.inputs.size() > kLinearBias) p.bias = value_of(ctx.graph, node.inputs[kLinearBias]);
  const ir::TensorType* xt = ctx.input_types[kLinearX];
  if (xt == nullptr || xt->shape.empty() || !ir::is_static(xt->shape))
    return node_error(node, "input x needs a concrete shape [..., K]");
  p.K = xt->shape.back();
  p.N = p.weight->shape[0];
  p.M = ir::numel(ir::Shape(xt->shape.begin(), xt->shape.end() - 1));
  if (p.weight->shape[1] != p.K)
    return node_error(node, "weight '" + p.weight->name + "' is " +
                                ir::shape_to_string(p.weight->shape) +
                                " for K = " + std::to_string(p.K));
  if (const auto* attrs = std::get_if<ir::LinearAttrs>(&node.attrs))
    p.activation = cuda_activation(attrs->activation);
  QRT_ASSIGN_OR_RETURN(const DeviceInfo info, require_device(node));
  p.multiprocessors = info.multiprocessor_count;
  p.compute_major = info.compute_major;
  return p;
}

std::optional<ActivationKind> cuda_activation(ir::FusedActivation activation) {
  switch (activation) {
    case ir::FusedActivation::kNone:
      return std::nullopt;
    case ir::FusedActivation::kRelu:
      return ActivationKind::kRelu;
    case ir::FusedActivation::kGeluErf:
      return ActivationKind::kGeluErf;
    case ir::FusedActivation::kGeluTanh:
      return ActivationKind::kGeluTanh;
    case ir::FusedActivation::kSilu:
      return ActivationKind::kSilu;
    case ir::FusedActivation::kSigmoid:
      return ActivationKind::kSigmoid;
    case ir::FusedActivation::kTanh:
      return ActivationKind::kTanh;
  }
  return std::nullopt;
}

void add_fused_activation(const LinearProblem& problem, gemm_int8::EpilogueSpec& epilogue) {
  epilogue.has_activation = problem.activation.has_value();
  if (problem.activation) epilogue.activation = *problem.activation;
}

Status apply_fused_activation(const LinearProblem& problem, float* y, cudaStream_t stream) {
  if (!problem.activation) return Status::ok();
  return labeled(problem.label,
                 launch_activation(*problem.activation, y, y, problem.M * problem.N, 0.0f, stream));
}

Result<__half*> round_x_to_half(const LinearProblem& problem, const runtime::RunContext& ctx,
                                DeviceWorkspace& ws) {
  __half* x16 = ws.take<__half>(problem.M * problem.K);
  QRT_RETURN_IF_ERROR(launch_round_to_half(ctx.inputs[kLinearX].as<float>(), problem.M * problem.K,
                                           x16, problem.multiprocessors, stream_of(ctx)));
  return x16;
}

std::string fused_activation_note(const LinearProblem& problem) {
  return problem.activation ? std::string(", fused ") + activation_name(*problem.activation) : "";
}

Result<DeviceBuffer> upload_linear_bias(const ir::Node& node, const LinearProblem& problem) {
  if (problem.bias == nullptr) return DeviceBuffer();
  QRT_ASSIGN_OR_RETURN(const std::vector<float> bias,
                       constant_floats(node, *problem.bias, problem.N));
  return upload(bias);
}

Status check_linear_views(const LinearProblem& problem, const runtime::RunContext& ctx) {
  // The weight and the bias are constants, uploaded in prepare: the session passes host views.
  QRT_RETURN_IF_ERROR(
      check_device_views(problem.label, ctx, ctx.inputs.size(), 1, {false, true, true}));
  if (ctx.inputs.size() < 2 || !ctx.inputs[kLinearX].present() || ctx.outputs[0].data == nullptr)
    return invalid_argument(problem.label + "input x and output y must be present");
  return Status::ok();
}

}  // namespace qrt::cuda::kernels
