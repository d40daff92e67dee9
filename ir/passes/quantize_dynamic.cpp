// Dynamic int8, W8A8 (design notes, section 3; PyTorch quantize_dynamic for Linear and LSTM):
// int8 per-channel weights offline, each activation row quantized at run time by the kernel.
#include <cmath>

#include "ir/passes/passes.h"
#include "ir/passes/weight_rewrite.h"

namespace qrt::ir::passes {

Result<Graph> quantize_dynamic(const Graph& graph, const DynamicOptions& options) {
  if (!std::isfinite(options.outlier_threshold) || options.outlier_threshold < 0.0f)
    return invalid_argument("quantize_dynamic: outlier_threshold " +
                            std::to_string(options.outlier_threshold) +
                            " must be finite and >= 0 (0 disables the decomposition)");
  QRT_ASSIGN_OR_RETURN(Graph out,
                       rewrite_weighted_nodes(graph, Precision::kInt8Dynamic, options.policy));
  // The LLM.int8() decomposition (bitsandbytes Linear8bitLt, `threshold`) splits the input columns
  // of a GEMM; it is recorded on every int8-dynamic node, Linear and LSTM alike, and each kernel
  // applies it to its GEMMs (the LSTM kernel to its x_t and h_{t-1} products).
  const std::string dynamic = precision_name(Precision::kInt8Dynamic);
  for (Node& node : out.nodes)
    if (node.precision.precision == dynamic)
      node.precision.outlier_threshold = options.outlier_threshold;
  return finish_pass(std::move(out), "quantize_dynamic");
}

}  // namespace qrt::ir::passes
