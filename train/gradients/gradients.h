// The per-op backward kernels behind qrt::train::backward (train/op_gradient.h). Each is called
// after check_gradient_args (gradient_support.h) has validated the counts, dtypes, devices and
// gradient shapes, and checks the op-specific shapes itself. Formulas are in each .cpp.
#pragma once

#include "train/op_gradient.h"

namespace qrt::train {

using BackwardFn = Status (*)(const GradientArgs& args);

Status linear_backward(const GradientArgs& args);
Status lstm_backward(const GradientArgs& args);
Status layer_norm_backward(const GradientArgs& args);
// Relu, LeakyRelu, Gelu, Silu, Sigmoid, Tanh.
Status activation_backward(const GradientArgs& args);
// Add, Sub, Mul with NumPy broadcasting.
Status binary_backward(const GradientArgs& args);
Status reshape_backward(const GradientArgs& args);
Status transpose_backward(const GradientArgs& args);
Status slice_backward(const GradientArgs& args);
Status concat_backward(const GradientArgs& args);

}  // namespace qrt::train
