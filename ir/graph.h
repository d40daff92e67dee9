// The qrt graph IR: values (tensors), nodes (ops) and the graph's named inputs, outputs and
// weights.
//
// A Graph is a plain value type. Nodes are stored in a topological order once `verify` has passed
// (writers keep that order; `topological_order` checks it). A Graph may share weight bytes with
// other Graphs and with a memory-mapped file (see ConstantData), so copying a Graph never copies
// weights.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/constant_data.h"
#include "ir/dtype.h"
#include "ir/op_kind.h"
#include "ir/quant_params.h"
#include "ir/shape.h"
#include "ir/status.h"

namespace qrt::ir {

using ValueId = int32_t;
inline constexpr ValueId kNoValue = -1;  // an absent optional input

struct Value {
  std::string name;  // unique within the graph
  DType dtype = DType::kF32;
  // Graph inputs may hold kDynamicDim; constants are static; for other values the shape is derived
  // by `infer_shapes` (writers store it as a hint, readers re-derive it).
  Shape shape;
  std::optional<ConstantData> data;  // set for weights / constants
  std::optional<QuantParams> quant;  // set for quantized tensors
  bool is_constant() const { return data.has_value(); }
};

// Which precision a node runs in, and why (written by the precision policy, shown by `qrt
// inspect`).
struct PrecisionRecord {
  std::string precision = "fp32";  // fp32, fp16, bf16, w8a16, int8-dynamic, int8-static, nf4, ...
  std::string reason;              // e.g. "first weighted layer kept in fp16"
  float outlier_threshold = 0.0f;  // int8-dynamic only: LLM.int8() threshold, 0 = no decomposition
  bool operator==(const PrecisionRecord&) const = default;
};

struct Node {
  std::string name;  // unique within the graph
  OpKind op = OpKind::kRelu;
  Attrs attrs;
  std::vector<ValueId> inputs;  // kNoValue for an absent optional input
  std::vector<ValueId> outputs;
  PrecisionRecord precision;
};

struct Graph {
  std::vector<Value> values;
  std::vector<Node> nodes;
  std::vector<ValueId> inputs;                  // non-constant values fed by the caller
  std::vector<ValueId> outputs;                 // values returned to the caller
  std::map<std::string, std::string> metadata;  // producer, description, ...

  // Index of the value called `name`, or kNoValue.
  ValueId find_value(const std::string& name) const;
  // Index of the node called `name`, or -1.
  int find_node(const std::string& name) const;
  // Sum of the byte sizes of all constants.
  std::size_t weight_bytes() const;
};

// A value's dtype and shape, what shape inference computes.
struct TensorType {
  DType dtype = DType::kF32;
  Shape shape;
  bool operator==(const TensorType&) const = default;
};

// Checks everything a runtime relies on, naming the node or value at fault: ids in range, unique
// names, each value produced once, graph inputs not produced by a node, no cycles and nodes in
// topological order, attributes of the right type for each op and in range, constant byte sizes
// match dtype × shape, quantization parameters consistent (scales finite and > 0, zero points in
// range, NF4 block size divides the row), and per-op shape/dtype inference succeeds with the
// declared input shapes (dynamic dims allowed).
Status verify(const Graph& graph);

// Shape and dtype of every value given the shapes of the graph inputs (in `graph.inputs` order).
// Dynamic dims (kDynamicDim) propagate; concrete shapes give concrete results.
Result<std::vector<TensorType>> infer_shapes(const Graph& graph,
                                             const std::vector<Shape>& input_shapes);

// Node indices in an order where every node comes after the producers of its inputs; fails on a
// cycle (naming a node on it) or a value consumed but never produced.
Result<std::vector<int>> topological_order(const Graph& graph);

}  // namespace qrt::ir
