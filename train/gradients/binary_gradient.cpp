// Add / Sub / Mul backward with NumPy broadcasting. y[i] = a[ia(i)] ∘ b[ib(i)], where a broadcast
// dim maps every y index to a's only element there (stride 0), so each a element receives the sum
// of the dy's it fed ("sum over the broadcast dims", what PyTorch's sum_to does):
//   Add: da += Σ dy      db += Σ dy
//   Sub: da += Σ dy      db -= Σ dy
//   Mul: da += Σ dy·b    db += Σ dy·a
// The loop scatters into da and db directly, so a value used as both operands (x·x) whose two
// gradients are one buffer gets both contributions.
#include <vector>

#include "train/gradients/gradient_support.h"
#include "train/gradients/gradients.h"

namespace qrt::train {

namespace {

// Strides of `shape` right-aligned to a tensor of rank `rank`, 0 along broadcast (size 1 or
// missing) dims.
ir::Shape broadcast_strides(const ir::Shape& shape, std::size_t rank) {
  const ir::Shape own = row_major_strides(shape);
  ir::Shape strides(rank, 0);
  const std::size_t lead = rank - shape.size();
  for (std::size_t d = 0; d < shape.size(); ++d) strides[lead + d] = shape[d] == 1 ? 0 : own[d];
  return strides;
}

}  // namespace

Status binary_backward(const GradientArgs& args) {
  const ir::Node& node = args.node;
  QRT_RETURN_IF_ERROR(expect_arity(args, 2, 2, 1, 2));
  const runtime::ConstTensorView& a = args.inputs[0];
  const runtime::ConstTensorView& b = args.inputs[1];
  Result<ir::Shape> y_shape = ir::broadcast_shapes(a.shape, b.shape);
  if (!y_shape.is_ok()) return gradient_error(node, y_shape.status().message());
  QRT_RETURN_IF_ERROR(expect_output_shape(args, 0, "output y", *y_shape));
  const ir::OpKind op = node.op;
  if (op != ir::OpKind::kAdd && op != ir::OpKind::kSub && op != ir::OpKind::kMul)
    return gradient_error(node, "is not Add, Sub or Mul");

  const float* dy = output_grad(args, 0);
  float* da = wanted_grad(args, 0);
  float* db = wanted_grad(args, 1);
  if (dy == nullptr || (da == nullptr && db == nullptr)) return Status::ok();
  const int64_t total = ir::numel(*y_shape);
  if (total == 0) return Status::ok();

  const float* av = a.as<float>();
  const float* bv = b.as<float>();
  const bool mul = op == ir::OpKind::kMul;
  const float b_sign = op == ir::OpKind::kSub ? -1.0f : 1.0f;

  // Walk y as [outer, inner] with inner = its last dim; an odometer over the outer dims tracks
  // the a and b offsets.
  const ir::Shape& ys = *y_shape;
  const std::size_t rank = ys.size();
  const ir::Shape sa = broadcast_strides(a.shape, rank);
  const ir::Shape sb = broadcast_strides(b.shape, rank);
  const int64_t inner = rank == 0 ? 1 : ys.back();
  const int64_t inner_sa = rank == 0 ? 0 : sa.back();
  const int64_t inner_sb = rank == 0 ? 0 : sb.back();
  const int64_t outer = total / inner;
  std::vector<int64_t> index(rank, 0);
  int64_t off_a = 0, off_b = 0;
  for (int64_t o = 0; o < outer; ++o) {
    const float* g = dy + o * inner;
    for (int64_t j = 0; j < inner; ++j) {
      const int64_t ia = off_a + j * inner_sa;
      const int64_t ib = off_b + j * inner_sb;
      if (da != nullptr) da[ia] += mul ? g[j] * bv[ib] : g[j];
      if (db != nullptr) db[ib] += mul ? g[j] * av[ia] : b_sign * g[j];
    }
    // Advance the odometer over dims [0, rank - 1).
    for (std::size_t d = rank > 0 ? rank - 1 : 0; d-- > 0;) {
      off_a += sa[d];
      off_b += sb[d];
      if (++index[d] < ys[d]) break;
      off_a -= sa[d] * ys[d];
      off_b -= sb[d] * ys[d];
      index[d] = 0;
    }
  }
  return Status::ok();
}

}  // namespace qrt::train
