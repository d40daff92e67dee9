// CPU reference kernel for LayerNorm (ir/ops.def).
#pragma once

#include <memory>

#include "runtime/kernel.h"

namespace qrt::ops {

std::unique_ptr<runtime::Kernel> make_layer_norm_kernel();

}  // namespace qrt::ops
