// Wires the CUDA kernels into a registry (the CUDA counterpart of ops/register.h).
#pragma once

#include "runtime/kernel_registry.h"

namespace qrt::cuda {

// Adds every CUDA kernel (device kCuda). Registering needs no GPU; a kernel's prepare fails with
// "no CUDA device: ..." when none is usable.
void register_cuda_kernels(runtime::KernelRegistry& registry);

}  // namespace qrt::cuda
