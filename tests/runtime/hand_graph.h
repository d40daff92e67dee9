// Builds small graphs value by value, independent of any frontend, for runtime tests.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace qrt::testing {

class HandGraph {
 public:
  ir::ValueId input(const std::string& name, ir::Shape shape, ir::DType dtype = ir::DType::kF32) {
    const ir::ValueId v = value(name, std::move(shape), dtype);
    graph_.inputs.push_back(v);
    return v;
  }
  ir::ValueId constant(const std::string& name, ir::Shape shape, std::span<const float> data) {
    const ir::ValueId v = value(name, std::move(shape), ir::DType::kF32);
    graph_.values.back().data = ir::ConstantData::copy_of(data.data(), data.size_bytes()).value();
    return v;
  }
  // Any dtype: `bytes` are copied as they are.
  ir::ValueId constant_raw(const std::string& name, ir::DType dtype, ir::Shape shape,
                           std::span<const std::byte> bytes) {
    const ir::ValueId v = value(name, std::move(shape), dtype);
    graph_.values.back().data = ir::ConstantData::copy_of(bytes.data(), bytes.size()).value();
    return v;
  }
  // A node with one output whose shape is a hint (shape inference derives the real one).
  ir::ValueId node(const std::string& name, ir::OpKind op, std::vector<ir::ValueId> inputs,
                   ir::Shape output_hint = {}) {
    const ir::ValueId out = value(name + "_out", std::move(output_hint), ir::DType::kF32);
    graph_.nodes.push_back({name, op, ir::default_attrs(op), std::move(inputs), {out}, {}});
    return out;
  }
  void output(ir::ValueId v) { graph_.outputs.push_back(v); }
  ir::Graph& graph() { return graph_; }

 private:
  ir::ValueId value(const std::string& name, ir::Shape shape, ir::DType dtype) {
    ir::Value v;
    v.name = name;
    v.dtype = dtype;
    v.shape = std::move(shape);
    graph_.values.push_back(std::move(v));
    return static_cast<ir::ValueId>(graph_.values.size() - 1);
  }
  ir::Graph graph_;
};

}  // namespace qrt::testing
