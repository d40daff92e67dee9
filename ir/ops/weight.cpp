// Which weight encodings the weighted ops (Linear, LSTM) accept.
#include "ir/ops/infer.h"

namespace qrt::ir::ops {

Status check_weight(const Node& node, const TensorType& t, const Value* value,
                    const std::string& what) {
  if (is_float_dtype(t.dtype)) return Status::ok();
  const QuantParams* q = value && value->quant ? &*value->quant : nullptr;
  const std::string prefix = node_label(node) + what + " (" + dtype_name(t.dtype) + ") ";
  if (t.dtype == DType::kI8) {
    if (!q) return invalid_model(prefix + "carries no quantization parameters");
    if (q->scheme == QuantScheme::kSymmetricPerTensor) return Status::ok();
    if (q->scheme == QuantScheme::kSymmetricPerChannel) {
      // Kernels scale output channels, which are the rows of a [N, K] weight.
      if (q->axis == 0) return Status::ok();
      return invalid_model(prefix + "has per-channel scales along axis " + std::to_string(q->axis) +
                           ", expected axis 0 (output channels)");
    }
    return invalid_model(prefix + "has quantization scheme " + quant_scheme_name(q->scheme) +
                         ", expected symmetric-per-tensor or symmetric-per-channel");
  }
  if (t.dtype == DType::kNF4) {
    if (q && q->scheme == QuantScheme::kNF4Block) return Status::ok();
    return invalid_model(prefix + "needs nf4-block quantization parameters, got " +
                         (q ? quant_scheme_name(q->scheme) : "none"));
  }
  return invalid_model(prefix + "is not a supported weight dtype (f32, f16, bf16, i8, nf4)");
}

}  // namespace qrt::ir::ops
