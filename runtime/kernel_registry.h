// An explicit registry of kernel factories, filled by the code that wires backends together
// (e.g. `ops::register_cpu_kernels(registry)`): no static-initializer self-registration, no
// globals.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/op_kind.h"
#include "runtime/device_backend.h"
#include "runtime/kernel.h"

namespace qrt::runtime {

struct KernelEntry {
  ir::OpKind op{};
  Device device = Device::kCpu;
  std::string name;  // "cpu.reference.linear", shown in errors and by tools
  // Whether this kernel can run the node (dtypes, quantization); the first entry that supports a
  // node wins, so register specialised kernels before general ones.
  std::function<bool(const ir::Graph&, const ir::Node&)> supports;
  std::function<std::unique_ptr<Kernel>()> create;
};

class KernelRegistry {
 public:
  void add(KernelEntry entry);
  // The first entry for (node.op, device) whose `supports` accepts the node, or nullptr.
  const KernelEntry* find(const ir::Graph& graph, const ir::Node& node, Device device) const;
  const std::vector<KernelEntry>& entries() const { return entries_; }

  // The factory of the DeviceBackend a Session uses for the steps it places on `device` (not kCpu);
  // a later call replaces an earlier one.
  void set_device_backend(Device device, DeviceBackendFactory factory);
  // nullptr when none was set.
  const DeviceBackendFactory* device_backend(Device device) const;

 private:
  std::vector<KernelEntry> entries_;
  std::map<Device, DeviceBackendFactory> device_backends_;
};

}  // namespace qrt::runtime
