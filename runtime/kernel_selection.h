// Picks the kernel each node runs with: the requested device first, then (unless strict) the CPU.
// Internal to the runtime; Session is its user.
#pragma once

#include <vector>

#include "ir/graph.h"
#include "runtime/kernel_registry.h"

namespace qrt::runtime {

// One entry per index of `order` (node indices), copied out of the registry so that the registry
// need not outlive the call. Fails naming the node, its op and the device when no kernel fits:
// in strict mode as soon as `device` has none; otherwise only when the CPU has none either.
Result<std::vector<KernelEntry>> select_kernels(const ir::Graph& graph,
                                                const std::vector<int>& order,
                                                const KernelRegistry& registry, Device device,
                                                bool strict);

}  // namespace qrt::runtime
