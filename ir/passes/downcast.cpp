// FP16 / BF16 downcast (design notes, section 6): weights stored as f16 / bf16 (round to nearest
// even, ir/half.h); activations stay f32 tensors and the kernels round them (ir/precision.h).
#include "ir/passes/passes.h"
#include "ir/passes/weight_rewrite.h"

namespace qrt::ir::passes {

Result<Graph> downcast(const Graph& graph, Precision target, const PrecisionPolicy& policy) {
  if (target != Precision::kFP16 && target != Precision::kBF16)
    return invalid_argument(std::string("downcast: target precision '") + precision_name(target) +
                            "' is not fp16 or bf16");
  QRT_ASSIGN_OR_RETURN(Graph out, rewrite_weighted_nodes(graph, target, policy));
  return finish_pass(std::move(out), "downcast");
}

}  // namespace qrt::ir::passes
