// CPU reference kernel for Linear (ir/ops.def).
#pragma once

#include <memory>

#include "runtime/kernel.h"

namespace qrt::ops {

std::unique_ptr<runtime::Kernel> make_linear_kernel();

}  // namespace qrt::ops
