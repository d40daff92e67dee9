#include "runtime/kernel_selection.h"

#include <string>

namespace qrt::runtime {

namespace {

std::string node_desc(const ir::Node& node) {
  return "node '" + node.name + "' (" + ir::op_name(node.op) + ")";
}

// Why nothing fits, for the error message: the input dtypes, and the kernels that exist for the op
// on `device` but declined the node (e.g. an f32-only kernel facing f16 weights).
std::string why_not(const ir::Graph& graph, const ir::Node& node, const KernelRegistry& registry,
                    Device device) {
  std::string inputs;
  for (ir::ValueId v : node.inputs) {
    if (!inputs.empty()) inputs += ", ";
    inputs += v == ir::kNoValue || static_cast<std::size_t>(v) >= graph.values.size()
                  ? "-"
                  : ir::dtype_name(graph.values[static_cast<std::size_t>(v)].dtype);
  }
  std::string declined;
  for (const KernelEntry& e : registry.entries()) {
    if (e.op != node.op || e.device != device) continue;
    declined += (declined.empty() ? "" : ", ") + e.name;
  }
  return " (input dtypes: " + inputs + "; " +
         (declined.empty() ? std::string("no ") + device_name(device) +
                                 " kernel is registered for " + ir::op_name(node.op)
                           : "declined by " + declined) +
         ")";
}

}  // namespace

Result<std::vector<KernelEntry>> select_kernels(const ir::Graph& graph,
                                                const std::vector<int>& order,
                                                const KernelRegistry& registry, Device device,
                                                bool strict) {
  std::vector<KernelEntry> chosen;
  chosen.reserve(order.size());
  for (int index : order) {
    const ir::Node& node = graph.nodes[static_cast<std::size_t>(index)];
    const KernelEntry* entry = registry.find(graph, node, device);
    if (entry == nullptr && device != Device::kCpu) {
      if (strict)
        return unsupported(node_desc(node) + ": no " + device_name(device) +
                           " kernel supports this node (strict mode forbids falling back to cpu)" +
                           why_not(graph, node, registry, device));
      // Not strict: run this node on the CPU; the Session inserts the transfers around it.
      entry = registry.find(graph, node, Device::kCpu);
      if (entry == nullptr)
        return unsupported(node_desc(node) + ": no kernel supports this node on " +
                           device_name(device) + " or cpu" +
                           why_not(graph, node, registry, Device::kCpu));
    }
    if (entry == nullptr)
      return unsupported(node_desc(node) + ": no kernel supports this node on " +
                         device_name(device) + why_not(graph, node, registry, device));
    if (!entry->create)
      return internal_error(node_desc(node) + ": kernel '" + entry->name + "' has no factory");
    chosen.push_back(*entry);
  }
  return chosen;
}

}  // namespace qrt::runtime
