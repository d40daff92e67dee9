// CPU reference kernels for the elementwise activations: Relu, LeakyRelu, Gelu, Silu, Sigmoid,
// Tanh, and the same arithmetic on arrays for the activation a Linear kernel fuses.
#pragma once

#include <cstdint>
#include <memory>

#include "ir/op_kind.h"
#include "runtime/kernel.h"

namespace qrt::ops {

// A kernel computing activation `op` elementwise (the formulas are in ops/activation_math.h).
// `op` must be one of the six activations above.
std::unique_ptr<runtime::Kernel> make_activation_kernel(ir::OpKind op);

// y[i] = activation(x[i]) for i < n (y may be x; kNone copies). The activation kernels compute
// through this too, so a Linear applying its fused activation here gives bit for bit what the
// Linear followed by the standalone activation op gives.
void apply_activation(ir::FusedActivation activation, const float* x, float* y, int64_t n);

}  // namespace qrt::ops
