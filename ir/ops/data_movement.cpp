// Shared by the data-movement ops (Reshape, Transpose, Slice, Concat): which dtypes they move.
#include "ir/ops/infer.h"

namespace qrt::ir::ops {

Status check_movable(const Node& node, const TensorType& t, const std::string& what) {
  // nf4 packs two elements per byte in blocks with per-block scales: elements cannot be moved
  // individually, so these ops refuse it. Every other dtype is moved bit for bit.
  if (t.dtype != DType::kNF4) return Status::ok();
  return invalid_model(node_label(node) + what + " has dtype nf4, which this op cannot move");
}

}  // namespace qrt::ir::ops
