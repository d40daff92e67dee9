// Linear backward (y = x·Wᵀ + b, x [..., K] seen as [M, K], W [N, K]), PyTorch's formulas:
//   dx = dy·W        dW = dyᵀ·x        db = Σ_m dy[m, :]
#include "train/gradients/gradient_support.h"
#include "train/gradients/gradients.h"
#include "train/gradients/matmul_gradient.h"

namespace qrt::train {

Status linear_backward(const GradientArgs& args) {
  const ir::Node& node = args.node;
  QRT_RETURN_IF_ERROR(expect_arity(args, 2, 3, 1, 2));
  const runtime::ConstTensorView& x = args.inputs[0];
  const runtime::ConstTensorView& w = args.inputs[1];
  if (x.shape.empty()) return gradient_error(node, "input x is a scalar, expected [..., K]");
  if (w.shape.size() != 2)
    return gradient_error(node,
                          "weight has shape " + ir::shape_to_string(w.shape) + ", expected [N, K]");
  const int64_t N = w.shape[0];
  const int64_t K = w.shape[1];
  QRT_RETURN_IF_ERROR(expect_shape(node, "input x's last dim", {x.shape.back()}, {K}));
  const bool has_bias = args.inputs.size() > 2 && args.inputs[2].present();
  if (has_bias) QRT_RETURN_IF_ERROR(expect_shape(node, "bias", args.inputs[2].shape, {N}));
  ir::Shape y_shape = x.shape;
  y_shape.back() = N;
  QRT_RETURN_IF_ERROR(expect_output_shape(args, 0, "output y", y_shape));

  const float* dy = output_grad(args, 0);
  if (dy == nullptr) return Status::ok();
  const int64_t rows = ir::numel(ir::Shape(x.shape.begin(), x.shape.end() - 1));  // M
  if (float* dx = wanted_grad(args, 0)) accumulate_dy_w(rows, N, K, dy, N, w.as<float>(), dx, K);
  if (float* dw = wanted_grad(args, 1)) accumulate_dyt_x(rows, N, K, dy, N, x.as<float>(), K, dw);
  if (float* db = has_bias ? wanted_grad(args, 2) : nullptr)
    accumulate_column_sums(rows, N, dy, N, db);
  return Status::ok();
}

}  // namespace qrt::train
