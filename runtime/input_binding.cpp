#include "runtime/input_binding.h"

#include <string>

namespace qrt::runtime {

namespace {

std::string graph_input_list(const ir::Graph& graph) {
  std::string names;
  for (ir::ValueId v : graph.inputs) {
    if (!names.empty()) names += ", ";
    names += "'" + graph.values[static_cast<std::size_t>(v)].name + "'";
  }
  return names.empty() ? "none" : names;
}

// Dynamic dims of the declared shape accept any size; everything else must be equal.
bool shape_matches(const ir::Shape& declared, const ir::Shape& actual) {
  if (declared.size() != actual.size()) return false;
  for (std::size_t d = 0; d < declared.size(); ++d)
    if (declared[d] != ir::kDynamicDim && declared[d] != actual[d]) return false;
  return true;
}

Status check_tensor(const ir::Value& value, const ConstTensorView& t) {
  // Messages are built only on failure: a good run allocates nothing here.
  const auto what = [&] { return "input '" + value.name + "'"; };
  if (t.dtype != value.dtype)
    return invalid_argument(what() + ": dtype " + ir::dtype_name(t.dtype) + ", expected " +
                            ir::dtype_name(value.dtype));
  if (t.device != Device::kCpu)
    return invalid_argument(what() + ": tensor is on " + std::string(device_name(t.device)) +
                            ", expected host (cpu) memory");
  for (int64_t d : t.shape)
    if (d < 0)
      return invalid_argument(what() + ": shape " + ir::shape_to_string(t.shape) +
                              " has a negative dimension");
  if (!shape_matches(value.shape, t.shape))
    return invalid_argument(what() + ": shape " + ir::shape_to_string(t.shape) +
                            " does not match the expected shape " +
                            ir::shape_to_string(value.shape) +
                            (value.shape.size() != t.shape.size() ? " (rank differs)" : ""));
  auto count = ir::checked_numel(t.shape);
  if (!count.is_ok()) return invalid_argument(what() + ": " + count.status().message());
  if (*count > 0 && t.data == nullptr) return invalid_argument(what() + ": tensor has no data");
  return Status::ok();
}

}  // namespace

Status bind_inputs(const ir::Graph& graph, std::span<const NamedTensor> given,
                   std::vector<const ConstTensorView*>& bound) {
  bound.assign(graph.inputs.size(), nullptr);
  for (const NamedTensor& named : given) {
    std::size_t slot = graph.inputs.size();
    for (std::size_t i = 0; i < graph.inputs.size(); ++i) {
      if (graph.values[static_cast<std::size_t>(graph.inputs[i])].name == named.name) {
        slot = i;
        break;
      }
    }
    if (slot == graph.inputs.size())
      return invalid_argument("unknown input '" + named.name +
                              "' (graph inputs: " + graph_input_list(graph) + ")");
    if (bound[slot] != nullptr)
      return invalid_argument("input '" + named.name + "' is given more than once");
    const ir::Value& value = graph.values[static_cast<std::size_t>(graph.inputs[slot])];
    QRT_RETURN_IF_ERROR(check_tensor(value, named.tensor));
    bound[slot] = &named.tensor;
  }
  for (std::size_t i = 0; i < graph.inputs.size(); ++i)
    if (bound[i] == nullptr)
      return invalid_argument(
          "missing input '" + graph.values[static_cast<std::size_t>(graph.inputs[i])].name +
          "' (expected " +
          ir::shape_to_string(graph.values[static_cast<std::size_t>(graph.inputs[i])].shape) + ")");
  return Status::ok();
}

}  // namespace qrt::runtime
