// Backward kernels: for one node, dL/d(inputs) from the node's forward inputs and outputs and
// dL/d(outputs). They are stateless: a node whose backward needs intermediates its outputs do not
// hold (the LSTM's gates, LayerNorm's mean and variance) recomputes them from its inputs, which
// keeps forward on the ordinary runtime kernels and costs at most one extra forward per node.
// All tensors are f32 on the CPU; the semantics are PyTorch autograd's for the same op.
#pragma once

#include <span>

#include "ir/graph.h"
#include "ir/status.h"
#include "runtime/tensor.h"

namespace qrt::train {

struct GradientArgs {
  const ir::Graph& graph;
  const ir::Node& node;
  // Same order as node.inputs / node.outputs; absent optional inputs have data == nullptr. An
  // output the forward left unbound (nobody reads it) may be an empty view, without data or shape;
  // kernels that need an output's values (Sigmoid, Tanh) recompute them from the inputs then.
  std::span<const runtime::ConstTensorView> inputs;
  std::span<const runtime::ConstTensorView> outputs;
  // dL/d(output i); data == nullptr when output i does not reach the loss (treated as zero).
  std::span<const runtime::ConstTensorView> output_grads;
  // dL/d(input i), same shape as input i, ACCUMULATED into (+=) so a value used by several nodes
  // sums its gradients; data == nullptr when that gradient is not wanted (skip computing it).
  std::span<const runtime::TensorView> input_grads;
};

// Whether backward() handles this node's op (and, for quantized precisions, its precision).
bool has_gradient(const ir::Node& node);

// Fails naming the node for a Linear with a fused activation (ir::passes::fuse_activations), which
// has no backward: fusion is for deployment graphs, training runs the unfused graph.
Status check_no_fused_activation(const ir::Node& node);

// Runs the node's backward. Errors name the node; unsupported ops return a Status, never abort.
Status backward(const GradientArgs& args);

}  // namespace qrt::train
