// CPU reference kernels for the elementwise activations: Relu, LeakyRelu, Gelu, Silu, Sigmoid,
// Tanh.
#pragma once

#include <memory>

#include "ir/op_kind.h"
#include "runtime/kernel.h"

namespace qrt::ops {

// A kernel computing activation `op` elementwise (the formulas are in ops/activation_math.h).
// `op` must be one of the six activations above.
std::unique_ptr<runtime::Kernel> make_activation_kernel(ir::OpKind op);

}  // namespace qrt::ops
