// Checks and small helpers shared by the backward kernels. Every message starts with the node
// label ("node 'fc1' (Linear): ") so an error names the node at fault.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "ir/op_schema.h"
#include "train/op_gradient.h"

namespace qrt::train {

// An invalid-argument Status "node '<name>' (<Op>): <message>".
Status gradient_error(const ir::Node& node, const std::string& message);

// What backward() checks before any kernel runs: one tensor per node input in `inputs` and
// `input_grads`, one per node output in `outputs` and `output_grads`; every present tensor is an
// f32 CPU tensor; an absent input (kNoValue) has no data and no gradient; each present gradient has
// the shape of its tensor (input_grads[i] of inputs[i], output_grads[i] of outputs[i]).
Status check_gradient_args(const GradientArgs& args);

// Fails naming output i (`what`) unless its shape equals `expected`, where the shape is known: from
// the output's data when given, else from its gradient. An output with neither (one the forward
// left unbound and that does not reach the loss, e.g. an LSTM's unread h_n) is not checked.
Status expect_output_shape(const GradientArgs& args, std::size_t i, const std::string& what,
                           const ir::Shape& expected);

// Fails naming `what` unless `got` equals `expected`.
Status expect_shape(const ir::Node& node, const std::string& what, const ir::Shape& got,
                    const ir::Shape& expected);

// Fails unless the node has `inputs` inputs (a range for optional trailing ones) and `outputs`
// outputs, and the first `required` inputs are present.
Status expect_arity(const GradientArgs& args, std::size_t min_inputs, std::size_t max_inputs,
                    std::size_t outputs, std::size_t required);

// The node's attributes as `A`, or an error naming the node.
template <typename A>
Result<const A*> gradient_attrs(const ir::Node& node) {
  const A* attrs = std::get_if<A>(&node.attrs);
  if (attrs == nullptr) return gradient_error(node, "attributes have the wrong type for this op");
  return attrs;
}

// The gradient buffer for input i, or nullptr when it is not wanted (or the input is absent).
inline float* wanted_grad(const GradientArgs& args, std::size_t i) {
  return i < args.input_grads.size() ? args.input_grads[i].as<float>() : nullptr;
}
// dL/d(output i), or nullptr when it does not reach the loss.
inline const float* output_grad(const GradientArgs& args, std::size_t i) {
  return i < args.output_grads.size() ? args.output_grads[i].as<float>() : nullptr;
}

// dst[i] += src[i] for i < n.
void accumulate(float* dst, const float* src, int64_t n);

// Row-major strides of `shape` (in elements).
ir::Shape row_major_strides(const ir::Shape& shape);

}  // namespace qrt::train
