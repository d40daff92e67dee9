// Training from scratch: PyTorch's default initialisation of the trainable parameters, from a seed.
//   Linear  weight [N, K] and bias [N]: U(-1/√K, 1/√K)          (nn.Linear.reset_parameters)
//   LSTM    every weight and bias:      U(-1/√H, 1/√H)          (nn.LSTM.reset_parameters)
//   LayerNorm gamma = 1, beta = 0                               (nn.LayerNorm)
// The same seed gives the same values on every platform (own float conversion of mt19937_64
// draws, no std distributions).
#pragma once

#include <cstdint>
#include <span>

#include "ir/graph.h"
#include "ir/status.h"
#include "train/parameter.h"

namespace qrt::train {

// Re-initialises each of `parameters` (matched by name to the weights of `graph`'s Linear, LSTM and
// LayerNorm nodes). Fails, naming the parameter, for one that is none of those (a FakeQuant scale).
Status initialize_parameters(const ir::Graph& graph, std::span<Parameter> parameters,
                             uint64_t seed);

}  // namespace qrt::train
