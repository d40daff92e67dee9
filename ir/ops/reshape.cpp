// Reshape with ONNX rules (allowzero = 0): a 0 in the target copies the input dim at that position,
// one -1 is inferred so that the element counts match. The input's element count must equal the
// output's.
//
// Dynamic dims: a ? copied by a 0 appears on both sides and cancels out of the element count, so
// x [?, 96, 7] with target {0, -1} gives [?, 672]. Any other ? in x makes a -1 dynamic ("a -1 next
// to a ? stays ?") and leaves the element count to be checked with concrete shapes.
#include "ir/ops/infer.h"

namespace qrt::ir::ops {

namespace {
std::string target_to_string(const std::vector<int64_t>& target) {
  std::string s = "{";
  for (size_t i = 0; i < target.size(); ++i) s += (i ? ", " : "") + std::to_string(target[i]);
  return s + "}";
}
}  // namespace

InferResult infer_reshape(const Node& node, const InferInputs& in) {
  QRT_ASSIGN_OR_RETURN(const ReshapeAttrs* attrs, attrs_as<ReshapeAttrs>(node));
  QRT_ASSIGN_OR_RETURN(const TensorType* x, required_input(node, in, 0, "x"));
  QRT_RETURN_IF_ERROR(check_movable(node, *x, "x"));
  const Shape& src = x->shape;
  const std::vector<int64_t>& target = attrs->shape;
  const std::string what =
      "reshape of x " + shape_to_string(src) + " to " + target_to_string(target);

  Shape out(target.size());
  std::vector<bool> cancelled(src.size(), false);  // dynamic input dims copied through a 0
  int64_t known_out = 1;                           // product of the static output dims
  std::optional<size_t> inferred;                  // position of the -1
  for (size_t i = 0; i < target.size(); ++i) {
    const int64_t t = target[i];
    if (t == -1) {
      if (inferred)
        return invalid_model(node_label(node) + what + ": more than one -1 in the target shape");
      inferred = i;
      continue;
    }
    if (t < -1)
      return invalid_model(node_label(node) + what + ": target dim " + std::to_string(i) + " is " +
                           std::to_string(t) + " (must be >= -1)");
    int64_t d = t;
    if (t == 0) {
      if (i >= src.size())
        return invalid_model(node_label(node) + what + ": target dim " + std::to_string(i) +
                             " is 0 (copy) but x has only " + std::to_string(src.size()) + " dims");
      d = src[i];
    }
    out[i] = d;
    if (d == kDynamicDim) {
      cancelled[i] = true;
    } else if (!checked_mul(known_out, d, &known_out)) {
      return invalid_model(node_label(node) + what + ": element count overflows");
    }
  }

  int64_t known_in = 1;  // product of the input dims that are not cancelled
  bool in_dynamic = false;
  for (size_t j = 0; j < src.size(); ++j) {
    if (cancelled[j]) continue;
    if (src[j] == kDynamicDim) {
      in_dynamic = true;
    } else if (!checked_mul(known_in, src[j], &known_in)) {
      return invalid_model(node_label(node) + what + ": element count overflows");
    }
  }

  if (inferred) {
    if (in_dynamic) {
      out[*inferred] = kDynamicDim;
    } else if (known_out == 0 || known_in % known_out != 0) {
      return invalid_model(node_label(node) + what + ": cannot infer the -1 (" +
                           std::to_string(known_in) + " elements do not split into groups of " +
                           std::to_string(known_out) + ")");
    } else {
      out[*inferred] = known_in / known_out;
    }
  } else if (!in_dynamic && known_in != known_out) {
    return invalid_model(node_label(node) + what + ": element counts differ (" +
                         std::to_string(known_in) + " vs " + std::to_string(known_out) + ")");
  } else if (in_dynamic && known_in != 0 && known_out % known_in != 0) {
    // x has known_in · (product of its ? dims) elements: a multiple of known_in whatever the ?s
    // are.
    return invalid_model(node_label(node) + what + ": " + std::to_string(known_out) +
                         " elements are not a multiple of x's static part (" +
                         std::to_string(known_in) + ")");
  }
  return std::vector<TensorType>{TensorType{x->dtype, std::move(out)}};
}

}  // namespace qrt::ir::ops
