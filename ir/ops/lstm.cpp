// LSTM (PyTorch nn.LSTM, batch_first=True, gates i, f, g, o stacked along the rows of each weight).
//   x [B, T, C], h0? [L, B, H], c0? [L, B, H],
//   per layer l: w_ih [4H, In_l] (In_0 = C, In_l = H after), w_hh [4H, H], b_ih? [4H], b_hh? [4H]
//   -> y [B, T, H] (last layer's hidden states), h_n [L, B, H], c_n [L, B, H]; all of x's dtype.
#include <limits>

#include "ir/ops/infer.h"

namespace qrt::ir::ops {

namespace {
constexpr size_t kFirstLayerInput = 3;  // x, h0, c0 come first
constexpr size_t kInputsPerLayer = 4;   // w_ih, w_hh, b_ih, b_hh
}  // namespace

InferResult infer_lstm(const Node& node, const InferInputs& in) {
  QRT_ASSIGN_OR_RETURN(const LstmAttrs* attrs, attrs_as<LstmAttrs>(node));
  const int64_t h = attrs->hidden_size;
  const int64_t layers = attrs->num_layers;
  if (h < 1 || h > std::numeric_limits<int64_t>::max() / 4)
    return invalid_model(node_label(node) + "hidden_size " + std::to_string(h) +
                         " out of range (must be >= 1)");
  if (layers < 1)
    return invalid_model(node_label(node) + "num_layers " + std::to_string(layers) +
                         " out of range (must be >= 1)");
  const size_t count = in.types.size();
  if (count < kFirstLayerInput || (count - kFirstLayerInput) % kInputsPerLayer != 0 ||
      static_cast<uint64_t>((count - kFirstLayerInput) / kInputsPerLayer) !=
          static_cast<uint64_t>(layers))
    return invalid_model(node_label(node) + "has " + std::to_string(count) + " inputs, expected " +
                         "3 + 4 * num_layers (num_layers = " + std::to_string(layers) + ")");

  QRT_ASSIGN_OR_RETURN(const TensorType* x, required_input(node, in, 0, "x"));
  QRT_RETURN_IF_ERROR(check_float(node, *x, "x"));
  QRT_RETURN_IF_ERROR(check_rank(node, *x, 3, "x [B, T, C]"));
  int64_t batch = x->shape[0];
  const int64_t gates = 4 * h;

  // Initial states: [L, B, H]; either may be absent (zeros).
  const char* state_names[] = {"h0", "c0"};
  for (size_t s = 1; s <= 2; ++s) {
    const TensorType* t = input_type(in, s);
    if (!t) continue;
    const std::string what = std::string(state_names[s - 1]) + " [L, B, H]";
    QRT_RETURN_IF_ERROR(check_float(node, *t, what));
    QRT_RETURN_IF_ERROR(check_rank(node, *t, 3, what));
    QRT_RETURN_IF_ERROR(check_dim(node, *t, 0, layers, what, "num_layers"));
    QRT_RETURN_IF_ERROR(check_dim(node, *t, 1, batch, what, "batch of x"));
    QRT_RETURN_IF_ERROR(check_dim(node, *t, 2, h, what, "hidden_size"));
    batch = merge_dims(batch, t->shape[1]);
  }

  for (int64_t l = 0; l < layers; ++l) {
    const size_t base = kFirstLayerInput + static_cast<size_t>(l) * kInputsPerLayer;
    const std::string sl = std::to_string(l);
    const std::string w_ih_name = "w_ih of layer " + sl;
    const std::string w_hh_name = "w_hh of layer " + sl;
    QRT_ASSIGN_OR_RETURN(const TensorType* w_ih, required_input(node, in, base, w_ih_name));
    QRT_ASSIGN_OR_RETURN(const TensorType* w_hh, required_input(node, in, base + 1, w_hh_name));
    QRT_RETURN_IF_ERROR(check_rank(node, *w_ih, 2, w_ih_name));
    QRT_RETURN_IF_ERROR(check_weight(node, *w_ih, input_value(in, base), w_ih_name));
    QRT_RETURN_IF_ERROR(check_dim(node, *w_ih, 0, gates, w_ih_name, "4 * hidden_size"));
    const int64_t in_features = l == 0 ? x->shape[2] : h;
    QRT_RETURN_IF_ERROR(check_dim(node, *w_ih, 1, in_features, w_ih_name,
                                  l == 0 ? "input size C of x" : "hidden_size"));
    QRT_RETURN_IF_ERROR(check_rank(node, *w_hh, 2, w_hh_name));
    QRT_RETURN_IF_ERROR(check_weight(node, *w_hh, input_value(in, base + 1), w_hh_name));
    QRT_RETURN_IF_ERROR(check_dim(node, *w_hh, 0, gates, w_hh_name, "4 * hidden_size"));
    QRT_RETURN_IF_ERROR(check_dim(node, *w_hh, 1, h, w_hh_name, "hidden_size"));
    for (size_t j = 2; j < kInputsPerLayer; ++j) {
      const TensorType* bias = input_type(in, base + j);
      if (!bias) continue;
      const std::string what = (j == 2 ? "b_ih of layer " : "b_hh of layer ") + sl;
      QRT_RETURN_IF_ERROR(check_float(node, *bias, what));
      QRT_RETURN_IF_ERROR(check_rank(node, *bias, 1, what));
      QRT_RETURN_IF_ERROR(check_dim(node, *bias, 0, gates, what, "4 * hidden_size"));
    }
  }

  const TensorType y{x->dtype, {batch, x->shape[1], h}};
  const TensorType state{x->dtype, {layers, batch, h}};
  return std::vector<TensorType>{y, state, state};
}

}  // namespace qrt::ir::ops
