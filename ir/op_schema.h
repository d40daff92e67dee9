// Per-op rules: arity, attribute checks and shape/dtype inference. One function per op, each in its
// own file ir/ops/<op>.cpp; the table in ir/op_schema.cpp maps OpKind to them.
#pragma once

#include <vector>

#include "ir/graph.h"

namespace qrt::ir {

// Types of a node's inputs, in order; nullptr for an absent optional input. For constants the
// Value itself is available (quantization parameters, e.g. a Linear with int8 weights).
struct InferInputs {
  std::vector<const TensorType*> types;
  std::vector<const Value*> values;  // the graph Value behind each input (nullptr when absent)
};

// Returns the output types, or an error whose message names the node ("node 'fc1' (Linear): ...").
using InferFn = Result<std::vector<TensorType>> (*)(const Node& node, const InferInputs& in);

struct OpSchema {
  OpKind op;
  int min_inputs;
  int max_inputs;  // -1: variadic (Concat); LSTM checks its own count from num_layers
  int num_outputs;
  InferFn infer;   // also validates attributes
};

const OpSchema& op_schema(OpKind op);

// "node 'fc1' (Linear): " — the prefix every per-op message starts with.
std::string node_label(const Node& node);

}  // namespace qrt::ir
