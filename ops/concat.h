// CPU reference kernel for Concat (ir/ops.def).
#pragma once

#include <memory>

#include "runtime/kernel.h"

namespace qrt::ops {

std::unique_ptr<runtime::Kernel> make_concat_kernel();

}  // namespace qrt::ops
