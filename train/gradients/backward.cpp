// The dispatcher: one switch maps an op to its backward kernel, so has_gradient and backward can
// never disagree about which ops are differentiable.
#include <new>
#include <string>

#include "ir/op_schema.h"
#include "ir/precision.h"
#include "train/gradients/fake_quant_gradient.h"
#include "train/gradients/gradient_support.h"
#include "train/gradients/gradients.h"
#include "train/op_gradient.h"

namespace qrt::train {

namespace {

// The backward kernel of `op`, or nullptr when the op has none.
BackwardFn backward_for(ir::OpKind op) {
  switch (op) {
    case ir::OpKind::kLinear:
      return &linear_backward;
    case ir::OpKind::kLSTM:
      return &lstm_backward;
    case ir::OpKind::kLayerNorm:
      return &layer_norm_backward;
    case ir::OpKind::kRelu:
    case ir::OpKind::kLeakyRelu:
    case ir::OpKind::kGelu:
    case ir::OpKind::kSilu:
    case ir::OpKind::kSigmoid:
    case ir::OpKind::kTanh:
      return &activation_backward;
    case ir::OpKind::kAdd:
    case ir::OpKind::kSub:
    case ir::OpKind::kMul:
      return &binary_backward;
    case ir::OpKind::kReshape:
      return &reshape_backward;
    case ir::OpKind::kTranspose:
      return &transpose_backward;
    case ir::OpKind::kSlice:
      return &slice_backward;
    case ir::OpKind::kConcat:
      return &concat_backward;
    case ir::OpKind::kFakeQuant:
      return &fake_quant_backward;
    default:
      return nullptr;
  }
}

// Gradients flow through float computation only: a node running in a quantized or half precision
// computes something else than its f32 formula (training quantized models goes through FakeQuant
// nodes in f32 graphs instead). An empty precision name is the default, fp32.
bool is_f32_precision(const ir::Node& node) {
  const std::string& p = node.precision.precision;
  return p.empty() || p == ir::precision_name(ir::Precision::kFP32);
}

}  // namespace

bool has_gradient(const ir::Node& node) {
  return backward_for(node.op) != nullptr && is_f32_precision(node) &&
         check_no_fused_activation(node).is_ok();
}

Status check_no_fused_activation(const ir::Node& node) {
  const auto* linear = std::get_if<ir::LinearAttrs>(&node.attrs);
  if (linear == nullptr || linear->activation == ir::FusedActivation::kNone) return Status::ok();
  return unsupported(ir::node_label(node) + "has fused activation '" +
                     ir::fused_activation_name(linear->activation) +
                     "': fused activation not supported in training; train the unfused graph");
}

Status backward(const GradientArgs& args) {
  const ir::Node& node = args.node;
  const BackwardFn fn = backward_for(node.op);
  if (fn == nullptr)
    return unsupported(ir::node_label(node) + "has no backward kernel for this op");
  if (!is_f32_precision(node))
    return unsupported(ir::node_label(node) + "runs in precision '" + node.precision.precision +
                       "'; gradients are computed for fp32 nodes only");
  QRT_RETURN_IF_ERROR(check_no_fused_activation(node));
  QRT_RETURN_IF_ERROR(check_gradient_args(args));
  // Kernels allocate scratch (transposes, recomputed LSTM gates) on the calling thread; running out
  // of memory there is an error to report, not an exception to let escape.
  try {
    return fn(args);
  } catch (const std::bad_alloc&) {
    return out_of_memory(ir::node_label(node) + "out of memory for the backward's scratch buffers");
  }
}

}  // namespace qrt::train
