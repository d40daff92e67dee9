#include "frontends/builder.h"

#include <algorithm>

#include "ir/op_schema.h"

namespace qrt::frontends {

using ir::ValueId;

void GraphBuilder::fail(Status status) {
  if (first_error_.is_ok()) first_error_ = std::move(status);
}

ValueId GraphBuilder::add_value(const std::string& name, ir::DType dtype, ir::Shape shape) {
  const auto id = static_cast<ValueId>(graph_.values.size());
  if (name.empty()) {
    fail(invalid_argument("GraphBuilder: value " + std::to_string(id) + " has an empty name"));
  } else if (!value_names_.emplace(name, id).second) {
    fail(invalid_argument("GraphBuilder: value name '" + name + "' is already used"));
  }
  ir::Value v;
  v.name = name;
  v.dtype = dtype;
  v.shape = std::move(shape);
  graph_.values.push_back(std::move(v));
  return id;
}

void GraphBuilder::check_input(const std::string& node, ir::OpKind op, ValueId id,
                               const std::string& what, bool optional) {
  if (optional && id == ir::kNoValue) return;
  if (id >= 0 && static_cast<size_t>(id) < graph_.values.size()) return;
  fail(invalid_argument("GraphBuilder: node '" + node + "' (" + ir::op_name(op) + "): " + what +
                        " is value id " + std::to_string(id) +
                        ", which is not a value of the graph"));
}

ValueId GraphBuilder::add_node(const std::string& name, ir::OpKind op, ir::Attrs attrs,
                               std::vector<ValueId> inputs,
                               const std::vector<std::string>& output_names) {
  if (name.empty()) {
    fail(invalid_argument(std::string("GraphBuilder: a ") + ir::op_name(op) +
                          " node has an empty name"));
  } else if (!node_names_.insert(name).second) {
    fail(invalid_argument("GraphBuilder: node name '" + name + "' is already used"));
  }
  ir::Node node;
  node.name = name;
  node.op = op;
  node.attrs = std::move(attrs);
  node.inputs = std::move(inputs);
  const auto first = static_cast<ValueId>(graph_.values.size());
  for (const std::string& out : output_names)
    node.outputs.push_back(add_value(out, ir::DType::kF32, {}));
  graph_.nodes.push_back(std::move(node));
  return first;
}

ValueId GraphBuilder::add_single_output_node(const std::string& name, ir::OpKind op,
                                             ir::Attrs attrs, std::vector<ValueId> inputs) {
  return add_node(name, op, std::move(attrs), std::move(inputs), {name});
}

ValueId GraphBuilder::input(const std::string& name, ir::Shape shape, ir::DType dtype) {
  const ValueId id = add_value(name, dtype, std::move(shape));
  graph_.inputs.push_back(id);
  return id;
}

ValueId GraphBuilder::constant(const std::string& name, ir::Shape shape,
                               std::span<const float> data) {
  Result<int64_t> n = ir::checked_numel(shape);
  const std::string label = "GraphBuilder: constant '" + name + "': ";
  if (!n.is_ok()) {
    fail(n.status().with_context(label.substr(0, label.size() - 2)));
  } else if (static_cast<uint64_t>(*n) != data.size()) {
    fail(invalid_argument(label + std::to_string(data.size()) + " floats given for shape " +
                          ir::shape_to_string(shape) + " (" + std::to_string(*n) + " elements)"));
  }
  Result<ir::ConstantData> bytes = ir::ConstantData::copy_of(data.data(), data.size_bytes());
  if (!bytes.is_ok()) fail(bytes.status().with_context(label.substr(0, label.size() - 2)));
  const ValueId id = add_value(name, ir::DType::kF32, std::move(shape));
  // Always a constant (possibly empty on failure) so later calls see a weight, not a dangling
  // value.
  graph_.values[static_cast<size_t>(id)].data =
      bytes.is_ok() ? std::move(bytes).value() : ir::ConstantData();
  return id;
}

ValueId GraphBuilder::constant_raw(const std::string& name, ir::DType dtype, ir::Shape shape,
                                   ir::ConstantData data, std::optional<ir::QuantParams> quant) {
  const ValueId id = add_value(name, dtype, std::move(shape));
  ir::Value& v = graph_.values[static_cast<size_t>(id)];
  v.data = std::move(data);  // byte size against dtype × shape is checked by verify in build()
  v.quant = std::move(quant);
  return id;
}

ValueId GraphBuilder::linear(const std::string& name, ValueId x, ValueId weight, ValueId bias) {
  check_input(name, ir::OpKind::kLinear, x, "x", false);
  check_input(name, ir::OpKind::kLinear, weight, "weight", false);
  check_input(name, ir::OpKind::kLinear, bias, "bias", true);
  std::vector<ValueId> inputs = {x, weight};
  if (bias != ir::kNoValue) inputs.push_back(bias);
  return add_single_output_node(name, ir::OpKind::kLinear, ir::LinearAttrs{}, std::move(inputs));
}

GraphBuilder::LstmOutputs GraphBuilder::lstm(const std::string& name, ValueId x,
                                             int64_t hidden_size,
                                             const std::vector<LstmLayer>& layers, ValueId h0,
                                             ValueId c0) {
  constexpr ir::OpKind op = ir::OpKind::kLSTM;
  check_input(name, op, x, "x", false);
  check_input(name, op, h0, "h0", true);
  check_input(name, op, c0, "c0", true);
  std::vector<ValueId> inputs = {x, h0, c0};
  for (size_t l = 0; l < layers.size(); ++l) {
    const std::string sl = " of layer " + std::to_string(l);
    check_input(name, op, layers[l].w_ih, "w_ih" + sl, false);
    check_input(name, op, layers[l].w_hh, "w_hh" + sl, false);
    check_input(name, op, layers[l].b_ih, "b_ih" + sl, true);
    check_input(name, op, layers[l].b_hh, "b_hh" + sl, true);
    inputs.insert(inputs.end(), {layers[l].w_ih, layers[l].w_hh, layers[l].b_ih, layers[l].b_hh});
  }
  const ir::LstmAttrs attrs{hidden_size, static_cast<int64_t>(layers.size())};
  const ValueId y =
      add_node(name, op, attrs, std::move(inputs), {name, name + ".h_n", name + ".c_n"});
  return {y, y + 1, y + 2};
}

ValueId GraphBuilder::layer_norm(const std::string& name, ValueId x, ValueId gamma, ValueId beta,
                                 float eps) {
  constexpr ir::OpKind op = ir::OpKind::kLayerNorm;
  check_input(name, op, x, "x", false);
  check_input(name, op, gamma, "gamma", true);
  check_input(name, op, beta, "beta", true);
  std::vector<ValueId> inputs = {x, gamma, beta};
  // Trailing absent optional inputs are dropped, as the exporter writes them.
  while (inputs.size() > 1 && inputs.back() == ir::kNoValue) inputs.pop_back();
  return add_single_output_node(name, op, ir::LayerNormAttrs{eps}, std::move(inputs));
}

ValueId GraphBuilder::unary(const std::string& name, ir::OpKind op, ValueId x) {
  if (op != ir::OpKind::kRelu && op != ir::OpKind::kSilu && op != ir::OpKind::kSigmoid &&
      op != ir::OpKind::kTanh)
    fail(invalid_argument("GraphBuilder: node '" + name +
                          "': unary() takes Relu, Silu, Sigmoid "
                          "or Tanh, not " +
                          ir::op_name(op)));
  check_input(name, op, x, "x", false);
  return add_single_output_node(name, op, ir::default_attrs(op), {x});
}

ValueId GraphBuilder::leaky_relu(const std::string& name, ValueId x, float negative_slope) {
  check_input(name, ir::OpKind::kLeakyRelu, x, "x", false);
  return add_single_output_node(name, ir::OpKind::kLeakyRelu, ir::LeakyReluAttrs{negative_slope},
                                {x});
}

ValueId GraphBuilder::gelu(const std::string& name, ValueId x, bool tanh_approximation) {
  check_input(name, ir::OpKind::kGelu, x, "x", false);
  return add_single_output_node(name, ir::OpKind::kGelu, ir::GeluAttrs{tanh_approximation}, {x});
}

ValueId GraphBuilder::binary(const std::string& name, ir::OpKind op, ValueId a, ValueId b) {
  if (op != ir::OpKind::kAdd && op != ir::OpKind::kSub && op != ir::OpKind::kMul)
    fail(invalid_argument("GraphBuilder: node '" + name +
                          "': binary() takes Add, Sub or Mul, not " + ir::op_name(op)));
  check_input(name, op, a, "a", false);
  check_input(name, op, b, "b", false);
  return add_single_output_node(name, op, ir::default_attrs(op), {a, b});
}

ValueId GraphBuilder::reshape(const std::string& name, ValueId x, std::vector<int64_t> shape) {
  check_input(name, ir::OpKind::kReshape, x, "x", false);
  return add_single_output_node(name, ir::OpKind::kReshape, ir::ReshapeAttrs{std::move(shape)},
                                {x});
}

ValueId GraphBuilder::transpose(const std::string& name, ValueId x, std::vector<int64_t> perm) {
  check_input(name, ir::OpKind::kTranspose, x, "x", false);
  return add_single_output_node(name, ir::OpKind::kTranspose, ir::TransposeAttrs{std::move(perm)},
                                {x});
}

ValueId GraphBuilder::slice(const std::string& name, ValueId x, int64_t axis, int64_t start,
                            int64_t end, int64_t step, bool squeeze) {
  check_input(name, ir::OpKind::kSlice, x, "x", false);
  return add_single_output_node(name, ir::OpKind::kSlice,
                                ir::SliceAttrs{axis, start, end, step, squeeze}, {x});
}

ValueId GraphBuilder::concat(const std::string& name, const std::vector<ValueId>& xs,
                             int64_t axis) {
  for (size_t i = 0; i < xs.size(); ++i) {
    std::string what = "x";
    what += std::to_string(i);
    check_input(name, ir::OpKind::kConcat, xs[i], what, false);
  }
  return add_single_output_node(name, ir::OpKind::kConcat, ir::ConcatAttrs{axis}, xs);
}

void GraphBuilder::output(ValueId v, const std::string& name) {
  if (v < 0 || static_cast<size_t>(v) >= graph_.values.size()) {
    fail(invalid_argument("GraphBuilder: output " + std::to_string(graph_.outputs.size()) +
                          " is value id " + std::to_string(v) +
                          ", which is not a value of the graph"));
    return;
  }
  ir::Value& value = graph_.values[static_cast<size_t>(v)];
  if (std::find(graph_.outputs.begin(), graph_.outputs.end(), v) != graph_.outputs.end())
    fail(invalid_argument("GraphBuilder: value '" + value.name + "' is already a graph output"));
  if (!name.empty() && name != value.name) {
    if (!value_names_.emplace(name, v).second) {
      fail(invalid_argument("GraphBuilder: cannot rename output '" + value.name + "' to '" + name +
                            "': the name is already used"));
    } else {
      value_names_.erase(value.name);
      value.name = name;
    }
  }
  graph_.outputs.push_back(v);
}

void GraphBuilder::set_metadata(const std::string& key, const std::string& value) {
  graph_.metadata[key] = value;
}

Result<ir::Graph> GraphBuilder::build() {
  if (!first_error_.is_ok()) return first_error_;
  ir::Graph graph = graph_;  // weights are shared, not copied
  std::vector<ir::Shape> input_shapes;
  input_shapes.reserve(graph.inputs.size());
  for (ValueId id : graph.inputs)
    input_shapes.push_back(graph.values[static_cast<size_t>(id)].shape);
  QRT_ASSIGN_OR_RETURN(const std::vector<ir::TensorType> types,
                       ir::infer_shapes(graph, input_shapes));
  for (const ir::Node& node : graph.nodes) {
    for (ValueId id : node.outputs) {
      ir::Value& v = graph.values[static_cast<size_t>(id)];
      v.dtype = types[static_cast<size_t>(id)].dtype;
      v.shape = types[static_cast<size_t>(id)].shape;
    }
  }
  QRT_RETURN_IF_ERROR(ir::verify(graph));
  return graph;
}

}  // namespace qrt::frontends
