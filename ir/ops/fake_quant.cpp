// FakeQuant (the quantization design notes, section 8): a float op that simulates quantization.
//   kInteger: x, scale [1 or C], zero_point? [1 or C] -> y = s·(clamp(round(x / s) + z, qmin, qmax)
//   - z) kNF4:     x -> y = dequantize_nf4(quantize_nf4(x, block_size, double_quant))
// y has x's type. The scale and zero point are inputs (not attributes) so that a trainer can learn
// them; when they are constants their values are checked here too.
#include <cmath>
#include <string>

#include "ir/ops/infer.h"
#include "ir/quant_formats.h"

namespace qrt::ir::ops {

namespace {

constexpr int64_t kMinBits = 2;
constexpr int64_t kMaxBits = 8;

// The number of scales x needs: 1 per tensor, dim `axis` of x per channel (kDynamicDim if unknown).
Result<int64_t> expected_scale_count(const Node& node, const FakeQuantAttrs& attrs,
                                     const TensorType& x) {
  if (!attrs.per_channel) return int64_t{1};
  const auto rank = static_cast<int64_t>(x.shape.size());
  if (attrs.axis < -rank || attrs.axis >= rank)
    return invalid_model(node_label(node) + "axis " + std::to_string(attrs.axis) +
                         " is out of range for x of shape " + shape_to_string(x.shape) +
                         " (per-channel FakeQuant needs -" + std::to_string(rank) + " <= axis < " +
                         std::to_string(rank) + ")");
  const int64_t axis = attrs.axis < 0 ? attrs.axis + rank : attrs.axis;
  return x.shape[static_cast<size_t>(axis)];
}

// scale or zero_point: f32, shape [count]; a constant scale must be finite and > 0, a constant
// zero point finite.
Status check_parameter(const Node& node, const InferInputs& in, size_t i, const std::string& what,
                       int64_t count, bool is_scale) {
  const TensorType* t = input_type(in, i);
  if (t->dtype != DType::kF32)
    return invalid_model(node_label(node) + what + " has dtype " + dtype_name(t->dtype) +
                         ", expected f32");
  QRT_RETURN_IF_ERROR(check_rank(node, *t, 1, what));
  QRT_RETURN_IF_ERROR(check_dim(node, *t, 0, count, what,
                                count == 1 ? "per-tensor FakeQuant: one value"
                                           : "per-channel FakeQuant: one value per slice of x"));
  const Value* v = input_value(in, i);
  if (v == nullptr || !v->is_constant() || v->data->size() != numel(t->shape) * sizeof(float))
    return Status::ok();
  const auto data = v->data->as<float>();
  for (size_t c = 0; c < data.size(); ++c) {
    const bool ok = is_scale ? std::isfinite(data[c]) && data[c] > 0.0f : std::isfinite(data[c]);
    if (!ok)
      return invalid_model(node_label(node) + what + " '" + v->name + "' value #" +
                           std::to_string(c) + " is " + std::to_string(data[c]) +
                           (is_scale ? ", must be finite and > 0" : ", must be finite"));
  }
  return Status::ok();
}

InferResult infer_integer(const Node& node, const FakeQuantAttrs& attrs, const InferInputs& in,
                          const TensorType& x) {
  if (attrs.bits < kMinBits || attrs.bits > kMaxBits)
    return invalid_model(node_label(node) + "bits " + std::to_string(attrs.bits) + " outside 2..8");
  if (attrs.symmetric && attrs.unsigned_range)
    return invalid_model(node_label(node) +
                         "unsigned_range is for affine FakeQuant (symmetric ranges are signed)");
  QRT_ASSIGN_OR_RETURN(const int64_t count, expected_scale_count(node, attrs, x));
  if (input_type(in, 1) == nullptr)
    return invalid_model(node_label(node) + "required input 1 (scale) is missing");
  QRT_RETURN_IF_ERROR(check_parameter(node, in, 1, "scale", count, /*is_scale=*/true));
  const bool has_zero_point = input_type(in, 2) != nullptr;
  if (attrs.symmetric && has_zero_point)
    return invalid_model(node_label(node) + "a symmetric FakeQuant takes no zero_point input");
  if (!attrs.symmetric && !has_zero_point)
    return invalid_model(node_label(node) +
                         "an affine FakeQuant needs a zero_point input (input 2)");
  if (has_zero_point)
    QRT_RETURN_IF_ERROR(check_parameter(node, in, 2, "zero_point", count, /*is_scale=*/false));
  return std::vector<TensorType>{x};
}

InferResult infer_nf4(const Node& node, const FakeQuantAttrs& attrs, const InferInputs& in,
                      const TensorType& x) {
  if (input_type(in, 1) != nullptr || input_type(in, 2) != nullptr)
    return invalid_model(node_label(node) +
                         "an NF4 FakeQuant takes no scale or zero_point input (the block absmax "
                         "values are computed from x)");
  if (!is_valid_nf4_block_size(attrs.block_size))
    return invalid_model(node_label(node) + "block size " + std::to_string(attrs.block_size) +
                         " is not a power of two in [" + std::to_string(kNF4MinBlock) + ", " +
                         std::to_string(kNF4MaxBlock) + "]");
  if (x.shape.empty())
    return invalid_model(node_label(node) + "x is a scalar; NF4 blocks run along the last dim");
  const int64_t last = x.shape.back();
  if (last != kDynamicDim && last % attrs.block_size != 0)
    return invalid_model(node_label(node) + "block size " + std::to_string(attrs.block_size) +
                         " does not divide the last dim " + std::to_string(last) + " of x " +
                         shape_to_string(x.shape));
  return std::vector<TensorType>{x};
}

}  // namespace

InferResult infer_fake_quant(const Node& node, const InferInputs& in) {
  QRT_ASSIGN_OR_RETURN(const FakeQuantAttrs* attrs, attrs_as<FakeQuantAttrs>(node));
  QRT_ASSIGN_OR_RETURN(const TensorType* x, required_input(node, in, 0, "x"));
  QRT_RETURN_IF_ERROR(check_float(node, *x, "x"));
  switch (attrs->mode) {
    case FakeQuantMode::kInteger:
      return infer_integer(node, *attrs, in, *x);
    case FakeQuantMode::kNF4:
      return infer_nf4(node, *attrs, in, *x);
  }
  return invalid_model(node_label(node) + "unknown mode " +
                       std::to_string(static_cast<int>(attrs->mode)));
}

}  // namespace qrt::ir::ops
