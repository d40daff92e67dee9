#include "runtime/kernel_registry.h"

#include <utility>

namespace qrt::runtime {

void KernelRegistry::add(KernelEntry entry) {
  entries_.push_back(std::move(entry));
}

const KernelEntry* KernelRegistry::find(const ir::Graph& graph, const ir::Node& node,
                                        Device device) const {
  // Registration order is the priority order: specialised kernels are added before general ones.
  for (const KernelEntry& e : entries_) {
    if (e.op != node.op || e.device != device) continue;
    if (!e.supports || e.supports(graph, node)) return &e;
  }
  return nullptr;
}

}  // namespace qrt::runtime
