// Weight-only int8, W8A16 (design notes, section 2): int8 symmetric per-output-channel weights
// (QuantParams kSymmetricPerChannel, axis 0); activations stay float.
#include "ir/passes/passes.h"
#include "ir/passes/weight_rewrite.h"

namespace qrt::ir::passes {

Result<Graph> quantize_weights(const Graph& graph, const PrecisionPolicy& policy) {
  QRT_ASSIGN_OR_RETURN(Graph out, rewrite_weighted_nodes(graph, Precision::kW8A16, policy));
  return finish_pass(std::move(out), "quantize_weights");
}

}  // namespace qrt::ir::passes
