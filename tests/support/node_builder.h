// One-line construction of an ir::Node for tests that build graphs by hand (bypassing the
// GraphBuilder, which would reject the invalid graphs they need).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ir/graph.h"

namespace qrt::testing {

inline ir::Node make_node(std::string name, ir::OpKind op, ir::Attrs attrs,
                          std::vector<ir::ValueId> inputs, std::vector<ir::ValueId> outputs) {
  ir::Node n;
  n.name = std::move(name);
  n.op = op;
  n.attrs = std::move(attrs);
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  return n;
}

// Makes `g` the one-node graph x -> Linear(x, w) -> y over its first three values {x, w, y}; the
// node takes y's name.
inline void wire_single_linear(ir::Graph& g) {
  g.nodes = {make_node(g.values[2].name, ir::OpKind::kLinear, ir::LinearAttrs{}, {0, 1}, {2})};
  g.inputs = {0};
  g.outputs = {2};
}

}  // namespace qrt::testing
