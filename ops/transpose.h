// CPU reference kernel for Transpose (ir/ops.def).
#pragma once

#include <memory>

#include "runtime/kernel.h"

namespace qrt::ops {

std::unique_ptr<runtime::Kernel> make_transpose_kernel();

}  // namespace qrt::ops
