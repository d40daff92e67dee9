// Which weights of a graph train, and the graph the trainer runs: the trainable parameters turned
// from constants into graph inputs, so that one Session runs every step with the current values
// (the f32 CPU kernels read weights in place, whether constant or input).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/status.h"
#include "train/parameter.h"

namespace qrt::train {

struct TrainableGraph {
  // The input graph with each parameter's constant data removed and its value appended to
  // `graph.inputs` (after the model's own inputs, in `parameters` order).
  ir::Graph graph;
  std::vector<Parameter> parameters;          // initial values copied from the constants
  std::vector<ir::ValueId> parameter_values;  // the value of each parameter in `graph`
};

// True for an input of `node` that holds a weight the trainer may update: Linear's weight and
// bias, every LSTM weight and bias, LayerNorm's gamma and beta; in a QAT graph, the weight a
// FakeQuant reads (its x, when x is a constant) and, when the FakeQuant's scale is learnable, its
// scale and zero point (LSQ / LSQ+).
bool is_parameter_slot(const ir::Node& node, std::size_t input_index);

// Parameters are the f32, non-quantized constants in parameter slots whose names match none of
// `freeze_patterns` ('*' matches any run of characters; "lstm.*" freezes the LSTM). Fails when
// the graph does not verify, holds a Linear with a fused activation (check_no_fused_activation)
// or nothing is left to train.
Result<TrainableGraph> make_trainable_graph(const ir::Graph& graph,
                                            std::span<const std::string> freeze_patterns);

// `graph` with the constant of each parameter (matched by name) replaced by a copy of its value:
// a checkpoint. Fails, naming the parameter, when a name is missing or the shape differs.
Result<ir::Graph> graph_with_parameters(const ir::Graph& graph,
                                        std::span<const Parameter> parameters);

}  // namespace qrt::train
