#include "samples/forecasting/forecaster_graph.h"

#include <cstdint>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "frontends/builder.h"
#include "train/ett_data.h"
#include "train/initialize.h"
#include "train/trainable_graph.h"

namespace qrt::samples {

namespace {

using frontends::GraphBuilder;
using ir::ValueId;

// A zero-filled f32 constant; build_forecaster draws every weight afterwards.
ValueId zeros(GraphBuilder& b, const std::string& name, ir::Shape shape) {
  return b.constant(name, shape, std::vector<float>(static_cast<std::size_t>(ir::numel(shape))));
}

// nn.Linear(in, out) applied to the last axis; the exporter names the node `<module>/Linear`.
ValueId linear(GraphBuilder& b, const std::string& module, ValueId x, int64_t in, int64_t out) {
  const ValueId w = zeros(b, module + ".weight", {out, in});
  const ValueId bias = zeros(b, module + ".bias", {out});
  return b.linear(module + "/Linear", x, w, bias);
}

// The architecture with zero weights, named as the PyTorch exporter names the traced Forecaster.
Result<ir::Graph> forecaster_structure(const ForecasterShape& s) {
  constexpr int64_t kChannels = train::kEttChannels;
  GraphBuilder b;
  const ValueId x = b.input("x", {ir::kDynamicDim, s.lookback, kChannels});
  const ValueId last = b.slice("Slice", x, 1, -1, INT64_MAX);
  const ValueId z = b.binary("Sub", ir::OpKind::kSub, x, last);
  const ValueId zt = b.transpose("Transpose", z, {0, 2, 1});
  const ValueId time = linear(b, "time_linear", zt, s.lookback, s.horizon);
  const ValueId linear_branch = b.transpose("Transpose_1", time, {0, 2, 1});

  std::vector<GraphBuilder::LstmLayer> layers;
  for (int64_t l = 0; l < s.layers; ++l) {
    const std::string suffix = "_l" + std::to_string(l);
    const int64_t in = l == 0 ? kChannels : s.hidden;
    GraphBuilder::LstmLayer layer;
    layer.w_ih = zeros(b, "lstm.weight_ih" + suffix, {4 * s.hidden, in});
    layer.w_hh = zeros(b, "lstm.weight_hh" + suffix, {4 * s.hidden, s.hidden});
    layer.b_ih = zeros(b, "lstm.bias_ih" + suffix, {4 * s.hidden});
    layer.b_hh = zeros(b, "lstm.bias_hh" + suffix, {4 * s.hidden});
    layers.push_back(layer);
  }
  const GraphBuilder::LstmOutputs lstm = b.lstm("lstm/LSTM", z, s.hidden, layers);
  const ValueId last_step = b.slice("Slice_1", lstm.y, 1, -1, INT64_MAX, 1, /*squeeze=*/true);
  const ValueId gamma = zeros(b, "norm.weight", {s.hidden});
  const ValueId beta = zeros(b, "norm.bias", {s.hidden});
  const ValueId norm = b.layer_norm("norm/LayerNorm", last_step, gamma, beta);
  const ValueId act = b.gelu("act/Gelu", linear(b, "fc1", norm, s.hidden, s.hidden));
  const ValueId head = linear(b, "fc2", act, s.hidden, s.horizon * kChannels);
  const ValueId lstm_branch = b.reshape("Reshape", head, {-1, s.horizon, kChannels});
  const ValueId sum = b.binary("Add", ir::OpKind::kAdd, linear_branch, lstm_branch);
  b.output(b.binary("Add_1", ir::OpKind::kAdd, sum, last), "forecast");
  b.set_metadata("model_class", "Forecaster");
  QRT_ASSIGN_OR_RETURN(ir::Graph graph, b.build());
  // The exporter numbers a multi-output node's values `<node>:i`; the builder names them
  // `<node>`, `<node>.h_n`, `<node>.c_n`.
  const ValueId lstm_outputs[] = {lstm.y, lstm.h_n, lstm.c_n};
  for (std::size_t i = 0; i < std::size(lstm_outputs); ++i)
    graph.values[static_cast<std::size_t>(lstm_outputs[i])].name = "lstm/LSTM:" + std::to_string(i);
  return graph;
}

}  // namespace

Result<ir::Graph> build_forecaster(const ForecasterShape& shape, uint64_t seed) {
  const std::pair<const char*, int64_t> sizes[] = {{"lookback", shape.lookback},
                                                   {"horizon", shape.horizon},
                                                   {"hidden", shape.hidden},
                                                   {"layers", shape.layers}};
  for (const auto& [name, size] : sizes)
    if (size < 1)
      return invalid_argument(std::string("forecaster: ") + name + " " + std::to_string(size) +
                              " must be >= 1");
  QRT_ASSIGN_OR_RETURN(const ir::Graph structure, forecaster_structure(shape));
  QRT_ASSIGN_OR_RETURN(train::TrainableGraph trainable, train::make_trainable_graph(structure, {}));
  QRT_RETURN_IF_ERROR(train::initialize_parameters(structure, trainable.parameters, seed));
  return train::graph_with_parameters(structure, trainable.parameters);
}

}  // namespace qrt::samples
