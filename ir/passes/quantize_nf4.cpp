// NF4 weights, W4A16 (design notes, section 5; QLoRA / bitsandbytes): 4-bit NormalFloat codes in
// blocks of `block_size` along each row of every Linear / LSTM weight, optional double
// quantization.
#include "ir/passes/passes.h"
#include "ir/passes/weight_rewrite.h"
#include "ir/quant_formats.h"

namespace qrt::ir::passes {

Result<Graph> quantize_nf4(const Graph& graph, const Nf4Options& options) {
  if (!is_valid_nf4_block_size(options.block_size))
    return invalid_argument("quantize_nf4: block size " + std::to_string(options.block_size) +
                            " is not a power of two in [" + std::to_string(kNF4MinBlock) + ", " +
                            std::to_string(kNF4MaxBlock) + "]");
  // A block size that does not divide K of a quantized weight fails in the rewrite, naming the
  // node and the weight: silently keeping such a layer in another precision would hide it.
  const WeightEncodingOptions encoding{options.block_size, options.double_quant};
  QRT_ASSIGN_OR_RETURN(Graph out,
                       rewrite_weighted_nodes(graph, Precision::kNF4, options.policy, encoding));
  return finish_pass(std::move(out), "quantize_nf4");
}

}  // namespace qrt::ir::passes
