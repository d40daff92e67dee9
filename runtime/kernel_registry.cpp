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

void KernelRegistry::set_device_backend(Device device, DeviceBackendFactory factory) {
  device_backends_[device] = std::move(factory);
}

const DeviceBackendFactory* KernelRegistry::device_backend(Device device) const {
  const auto found = device_backends_.find(device);
  return found == device_backends_.end() ? nullptr : &found->second;
}

}  // namespace qrt::runtime
