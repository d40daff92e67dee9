// CPU reference kernels for the broadcasting binary ops Add, Sub, Mul.
#pragma once

#include <memory>

#include "ir/op_kind.h"
#include "runtime/kernel.h"

namespace qrt::ops {

// `op` must be kAdd, kSub or kMul.
std::unique_ptr<runtime::Kernel> make_binary_kernel(ir::OpKind op);

}  // namespace qrt::ops
