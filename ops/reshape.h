// CPU reference kernel for Reshape (ir/ops.def).
#pragma once

#include <memory>

#include "runtime/kernel.h"

namespace qrt::ops {

std::unique_ptr<runtime::Kernel> make_reshape_kernel();

}  // namespace qrt::ops
