// Reshape backward: y holds x's elements in the same row-major order, so dx += dy element for
// element (only the shape differs).
#include "train/gradients/gradient_support.h"
#include "train/gradients/gradients.h"

namespace qrt::train {

Status reshape_backward(const GradientArgs& args) {
  const ir::Node& node = args.node;
  QRT_RETURN_IF_ERROR(expect_arity(args, 1, 1, 1, 1));
  const int64_t n = args.inputs[0].numel();
  const runtime::ConstTensorView& known =
      args.outputs[0].present() ? args.outputs[0] : args.output_grads[0];
  if (known.present() && known.numel() != n)
    return gradient_error(node, "output y has shape " + ir::shape_to_string(known.shape) +
                                    ", which does not hold the " + std::to_string(n) +
                                    " elements of input x " +
                                    ir::shape_to_string(args.inputs[0].shape));
  const float* dy = output_grad(args, 0);
  float* dx = wanted_grad(args, 0);
  if (dy != nullptr && dx != nullptr) accumulate(dx, dy, n);
  return Status::ok();
}

}  // namespace qrt::train
