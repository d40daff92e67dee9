// Graph lookups, topological ordering (Kahn's algorithm) and whole-graph shape inference.
#include "ir/graph.h"

#include <algorithm>
#include <functional>
#include <queue>

#include "ir/op_schema.h"

namespace qrt::ir {

ValueId Graph::find_value(const std::string& name) const {
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].name == name) return static_cast<ValueId>(i);
  return kNoValue;
}

int Graph::find_node(const std::string& name) const {
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].name == name) return static_cast<int>(i);
  return -1;
}

std::size_t Graph::weight_bytes() const {
  std::size_t total = 0;
  for (const Value& v : values)
    if (v.data) total += v.data->size();
  return total;
}

namespace {

bool value_in_range(const Graph& g, ValueId id) {
  return id >= 0 && static_cast<size_t>(id) < g.values.size();
}

std::string id_out_of_range(const Graph& g, ValueId id) {
  return "value id " + std::to_string(id) + " is out of range (the graph has " +
         std::to_string(g.values.size()) + " values)";
}

// Names the nodes of a cycle among the nodes Kahn's algorithm could not schedule. Every such node
// has an unscheduled predecessor, so walking predecessors must revisit a node: that node is on a
// cycle.
std::string describe_cycle(const Graph& g, const std::vector<std::vector<int>>& preds,
                           const std::vector<int>& indegree) {
  int cur =
      static_cast<int>(std::find_if(indegree.begin(), indegree.end(), [](int d) { return d > 0; }) -
                       indegree.begin());
  std::vector<int> visit_step(g.nodes.size(), -1);
  std::vector<int> path;
  while (visit_step[static_cast<size_t>(cur)] < 0) {
    visit_step[static_cast<size_t>(cur)] = static_cast<int>(path.size());
    path.push_back(cur);
    for (int p : preds[static_cast<size_t>(cur)]) {
      if (indegree[static_cast<size_t>(p)] > 0) {
        cur = p;
        break;
      }
    }
  }
  // path[visit_step[cur]..] walks the cycle backwards; print it forwards.
  std::vector<int> cycle(path.begin() + visit_step[static_cast<size_t>(cur)], path.end());
  std::reverse(cycle.begin(), cycle.end());
  std::string s = "graph has a cycle through " + node_label(g.nodes[static_cast<size_t>(cur)]);
  for (int n : cycle) s += "'" + g.nodes[static_cast<size_t>(n)].name + "' -> ";
  return s + "'" + g.nodes[static_cast<size_t>(cycle.front())].name + "'";
}

}  // namespace

Result<std::vector<int>> topological_order(const Graph& graph) {
  const size_t num_values = graph.values.size();
  const size_t num_nodes = graph.nodes.size();

  std::vector<int> producer(num_values, -1);
  for (size_t n = 0; n < num_nodes; ++n) {
    const Node& node = graph.nodes[n];
    for (size_t j = 0; j < node.outputs.size(); ++j) {
      const ValueId id = node.outputs[j];
      if (!value_in_range(graph, id))
        return invalid_model(node_label(node) + "output " + std::to_string(j) + ": " +
                             id_out_of_range(graph, id));
      int& p = producer[static_cast<size_t>(id)];
      if (p >= 0)
        return invalid_model("value '" + graph.values[static_cast<size_t>(id)].name +
                             "' is produced by node '" + graph.nodes[static_cast<size_t>(p)].name +
                             "' and by node '" + node.name + "'");
      p = static_cast<int>(n);
    }
  }
  std::vector<bool> is_source(num_values, false);  // graph inputs and constants
  for (ValueId id : graph.inputs) {
    if (!value_in_range(graph, id))
      return invalid_model("graph input: " + id_out_of_range(graph, id));
    is_source[static_cast<size_t>(id)] = true;
  }
  for (size_t v = 0; v < num_values; ++v)
    if (graph.values[v].is_constant()) is_source[v] = true;

  std::vector<std::vector<int>> consumers(num_nodes), preds(num_nodes);
  std::vector<int> indegree(num_nodes, 0);
  for (size_t n = 0; n < num_nodes; ++n) {
    const Node& node = graph.nodes[n];
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const ValueId id = node.inputs[i];
      if (id == kNoValue) continue;
      if (!value_in_range(graph, id))
        return invalid_model(node_label(node) + "input " + std::to_string(i) + ": " +
                             id_out_of_range(graph, id));
      const int p = producer[static_cast<size_t>(id)];
      if (p < 0) {
        if (is_source[static_cast<size_t>(id)]) continue;
        return invalid_model(node_label(node) + "input " + std::to_string(i) + " is value '" +
                             graph.values[static_cast<size_t>(id)].name +
                             "', which no node produces and which is neither a graph input nor a "
                             "constant");
      }
      consumers[static_cast<size_t>(p)].push_back(static_cast<int>(n));
      preds[n].push_back(p);
      ++indegree[n];
    }
  }

  // Kahn's algorithm; the min-heap keeps the stored order when it already is topological.
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (size_t n = 0; n < num_nodes; ++n)
    if (indegree[n] == 0) ready.push(static_cast<int>(n));
  std::vector<int> order;
  order.reserve(num_nodes);
  while (!ready.empty()) {
    const int n = ready.top();
    ready.pop();
    order.push_back(n);
    for (int c : consumers[static_cast<size_t>(n)])
      if (--indegree[static_cast<size_t>(c)] == 0) ready.push(c);
  }
  if (order.size() != num_nodes) return invalid_model(describe_cycle(graph, preds, indegree));
  return order;
}

Result<std::vector<TensorType>> infer_shapes(const Graph& graph,
                                             const std::vector<Shape>& input_shapes) {
  if (input_shapes.size() != graph.inputs.size())
    return invalid_argument("expected " + std::to_string(graph.inputs.size()) +
                            " input shapes, got " + std::to_string(input_shapes.size()));
  std::vector<TensorType> types(graph.values.size());
  for (size_t v = 0; v < graph.values.size(); ++v) {
    const Value& value = graph.values[v];
    types[v] = TensorType{value.dtype, value.shape};
    if (!value.is_constant()) continue;
    if (!is_valid_dtype(static_cast<uint8_t>(value.dtype)))
      return invalid_model("constant '" + value.name + "' has an invalid dtype");
    if (!is_static(value.shape))
      return invalid_model("constant '" + value.name + "' has shape " +
                           shape_to_string(value.shape) + " with a dynamic or negative dim");
  }

  for (size_t k = 0; k < graph.inputs.size(); ++k) {
    const ValueId id = graph.inputs[k];
    if (!value_in_range(graph, id))
      return invalid_model("graph input: " + id_out_of_range(graph, id));
    const Value& value = graph.values[static_cast<size_t>(id)];
    const std::string label = "graph input '" + value.name + "'";
    if (value.is_constant()) return invalid_model(label + " is a constant");
    if (!is_valid_dtype(static_cast<uint8_t>(value.dtype)))
      return invalid_model(label + " has an invalid dtype");
    const Shape& declared = value.shape;
    const Shape& given = input_shapes[k];
    for (int64_t d : declared)
      if (d < kDynamicDim)
        return invalid_model(label + " is declared with shape " + shape_to_string(declared) +
                             ", which has a negative dim");
    for (int64_t d : given)
      if (d < kDynamicDim)
        return invalid_argument(label + ": given shape " + shape_to_string(given) +
                                " has a negative dim");
    if (given.size() != declared.size())
      return invalid_argument(label + ": given shape " + shape_to_string(given) + " has " +
                              std::to_string(given.size()) + " dims, declared " +
                              shape_to_string(declared) + " has " +
                              std::to_string(declared.size()));
    Shape merged = given;
    for (size_t d = 0; d < given.size(); ++d) {
      if (declared[d] == kDynamicDim) continue;
      if (given[d] != kDynamicDim && given[d] != declared[d])
        return invalid_argument(label + ": given shape " + shape_to_string(given) +
                                " differs from declared " + shape_to_string(declared) + " in dim " +
                                std::to_string(d));
      merged[d] = declared[d];
    }
    types[static_cast<size_t>(id)] = TensorType{value.dtype, std::move(merged)};
  }

  QRT_ASSIGN_OR_RETURN(const std::vector<int> order, topological_order(graph));
  for (int n : order) {
    const Node& node = graph.nodes[static_cast<size_t>(n)];
    InferInputs in;
    in.types.reserve(node.inputs.size());
    in.values.reserve(node.inputs.size());
    for (ValueId id : node.inputs) {  // ids were range-checked by topological_order
      const bool present = id != kNoValue;
      in.types.push_back(present ? &types[static_cast<size_t>(id)] : nullptr);
      in.values.push_back(present ? &graph.values[static_cast<size_t>(id)] : nullptr);
    }
    for (ValueId id : node.outputs)  // ids were range-checked by topological_order
      in.outputs.push_back(&graph.values[static_cast<size_t>(id)]);
    QRT_ASSIGN_OR_RETURN(std::vector<TensorType> out, infer_node(node, in));
    for (size_t j = 0; j < out.size(); ++j)
      types[static_cast<size_t>(node.outputs[j])] = std::move(out[j]);
  }
  return types;
}

}  // namespace qrt::ir
