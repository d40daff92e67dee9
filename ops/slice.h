// CPU reference kernel for Slice (ir/ops.def).
#pragma once

#include <memory>

#include "runtime/kernel.h"

namespace qrt::ops {

std::unique_ptr<runtime::Kernel> make_slice_kernel();

}  // namespace qrt::ops
