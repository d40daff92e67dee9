// Matches the caller's named input tensors to the graph inputs and checks them against the declared
// dtypes and shapes. Internal to the runtime; Session is its user.
#pragma once

#include <span>
#include <vector>

#include "ir/graph.h"
#include "runtime/session.h"

namespace qrt::runtime {

// Fills `bound[i]` with the tensor given for graph.inputs[i]. `bound` is resized to the number of
// graph inputs (no allocation once it has that size). Fails naming the input at fault: a name that
// is not a graph input, a name given twice, a missing input, a wrong dtype or device, a rank or a
// static dimension that differs from the declared shape, or no data for a non-empty tensor.
Status bind_inputs(const ir::Graph& graph, std::span<const NamedTensor> given,
                   std::vector<const ConstTensorView*>& bound);

}  // namespace qrt::runtime
