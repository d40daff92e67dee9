// Wires the CPU kernels into a registry.
#pragma once

#include "runtime/kernel_registry.h"

namespace qrt::ops {

// Adds a CPU kernel for every op in ir/ops.def.
void register_cpu_kernels(runtime::KernelRegistry& registry);

}  // namespace qrt::ops
