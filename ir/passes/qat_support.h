// Internal to ir/passes: what insert_fake_quant writes into a QAT graph and convert_qat reads back.
#pragma once

#include <string>

#include "ir/graph.h"

namespace qrt::ir::passes::qat {

// Graph metadata: "int8" or "nf4".
inline constexpr const char* kModeKey = "qat.mode";
// Graph metadata per weighted node: the precision it converts to ("int8-static", "nf4", "fp16",
// ...).
inline std::string precision_key(const std::string& node_name) {
  return "qat.precision." + node_name;
}

inline const char* mode_name(bool nf4) {
  return nf4 ? "nf4" : "int8";
}

// `base`, or `base.2`, `base.3`, ...: the first name no value (or node) of `graph` has.
inline std::string unique_name(const Graph& graph, const std::string& base) {
  std::string name = base;
  for (int n = 2; graph.find_value(name) != kNoValue || graph.find_node(name) >= 0; ++n)
    name = base + "." + std::to_string(n);
  return name;
}

}  // namespace qrt::ir::passes::qat
