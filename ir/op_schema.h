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
  // The graph Value behind each output (may be empty: callers that only know the inputs). An
  // int8-static Linear reads its output's declared dtype here: i8/u8 with per-tensor QuantParams
  // means the kernel requantizes its result for the next int8 op (ir/precision.h).
  std::vector<const Value*> outputs;
};

// Returns the output types, or an error whose message names the node ("node 'fc1' (Linear): ...").
using InferFn = Result<std::vector<TensorType>> (*)(const Node& node, const InferInputs& in);

struct OpSchema {
  OpKind op;
  int min_inputs;
  int max_inputs;  // -1: variadic (Concat); LSTM checks its own count from num_layers
  int num_outputs;
  InferFn infer;  // also validates attributes
};

// The schema of `op`; an out-of-range op gets a schema whose infer function fails.
const OpSchema& op_schema(OpKind op);

// Checks what can be checked without input types: the op is known, the attributes hold the type
// ops.def names, the input/output counts match the schema (LSTM: hidden_size, num_layers >= 1 and
// exactly 3 + 4·num_layers inputs).
Status check_node_signature(const Node& node);

// check_node_signature, then that `in` has one entry per input and that input dims are
// >= kDynamicDim, then runs the op's infer function and checks it returned one type per output.
Result<std::vector<TensorType>> infer_node(const Node& node, const InferInputs& in);

// "node 'fc1' (Linear): " — the prefix every per-op message starts with.
std::string node_label(const Node& node);

}  // namespace qrt::ir
