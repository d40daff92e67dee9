// Backward of FakeQuant: clipped straight-through estimator for x, LSQ / LSQ+ gradients for a
// learnable scale and zero point (formulas in fake_quant_gradient.h).
#include "train/gradients/fake_quant_gradient.h"

#include <cmath>
#include <vector>

#include "ops/fake_quant.h"
#include "train/gradients/gradient_support.h"

namespace qrt::train {

namespace {

constexpr std::size_t kX = 0, kScale = 1, kZeroPoint = 2;

// x as [outer, channels, inner] for the slice layout of `attrs` (per tensor: one channel).
struct SliceLayout {
  int64_t channels = 1;
  int64_t inner = 1;
};

Result<SliceLayout> slice_layout(const ir::Node& node, const ir::FakeQuantAttrs& attrs,
                                 const ir::Shape& x) {
  SliceLayout layout;
  layout.inner = ir::numel(x);
  if (!attrs.per_channel) return layout;
  const auto rank = static_cast<int64_t>(x.size());
  if (attrs.axis < -rank || attrs.axis >= rank)
    return gradient_error(node, "axis " + std::to_string(attrs.axis) + " out of range for x " +
                                    ir::shape_to_string(x));
  const int64_t axis = attrs.axis < 0 ? attrs.axis + rank : attrs.axis;
  layout.channels = x[static_cast<std::size_t>(axis)];
  layout.inner = 1;
  for (int64_t d = axis + 1; d < rank; ++d) layout.inner *= x[static_cast<std::size_t>(d)];
  return layout;
}

Status integer_backward(const GradientArgs& args, const ir::FakeQuantAttrs& attrs,
                        const float* dy) {
  const ir::Node& node = args.node;
  if (attrs.bits < 2 || attrs.bits > 8)
    return gradient_error(node, "bits " + std::to_string(attrs.bits) + " outside 2..8");
  const ir::FakeQuantRange range = ir::fake_quant_range(attrs);
  const runtime::ConstTensorView& xv = args.inputs[kX];
  QRT_ASSIGN_OR_RETURN(const SliceLayout layout, slice_layout(node, attrs, xv.shape));
  if (args.inputs.size() <= kScale || !args.inputs[kScale].present())
    return gradient_error(node, "required input 1 (scale) is missing");
  QRT_RETURN_IF_ERROR(expect_shape(node, "scale", args.inputs[kScale].shape, {layout.channels}));
  const bool has_zero_point = args.inputs.size() > kZeroPoint && args.inputs[kZeroPoint].present();
  if (has_zero_point)
    QRT_RETURN_IF_ERROR(
        expect_shape(node, "zero_point", args.inputs[kZeroPoint].shape, {layout.channels}));

  const float* x = xv.as<float>();
  const float* scale = args.inputs[kScale].as<float>();
  const float* zero_point = has_zero_point ? args.inputs[kZeroPoint].as<float>() : nullptr;
  float* dx = wanted_grad(args, kX);
  float* ds = attrs.learnable_scale ? wanted_grad(args, kScale) : nullptr;
  float* dz = attrs.learnable_scale && has_zero_point ? wanted_grad(args, kZeroPoint) : nullptr;
  if (dx == nullptr && ds == nullptr && dz == nullptr) return Status::ok();

  const int64_t n = xv.numel();
  // LSQ gradient scale g = 1 / sqrt(numel(x) · qmax).
  const double g = n > 0 ? 1.0 / std::sqrt(static_cast<double>(n) * range.qmax) : 0.0;
  std::vector<double> ds_sum(static_cast<std::size_t>(layout.channels), 0.0);
  std::vector<double> dz_sum(static_cast<std::size_t>(layout.channels), 0.0);
  const int64_t stride = layout.channels * layout.inner;
  for (int64_t begin = 0; begin < n; begin += stride) {
    for (int64_t c = 0; c < layout.channels; ++c) {
      const float s = scale[c];
      if (!std::isfinite(s) || !(s > 0.0f))
        return gradient_error(node, "scale #" + std::to_string(c) + " is " + std::to_string(s) +
                                        ", must be finite and > 0");
      const int32_t z = zero_point != nullptr ? ir::fake_quant_zero_point(zero_point[c], range) : 0;
      double ds_c = 0.0, dz_c = 0.0;
      const int64_t first = begin + c * layout.inner;
      for (int64_t i = first; i < first + layout.inner; ++i) {
        const float v = x[i] / s;
        const float r = std::nearbyint(v);
        const float t = r + static_cast<float>(z);
        const bool below = t < static_cast<float>(range.qmin);
        const bool above = t > static_cast<float>(range.qmax);
        if (dx != nullptr && !below && !above) dx[i] += dy[i];
        if (below || above) {
          const int32_t edge = below ? range.qmin : range.qmax;
          ds_c += static_cast<double>(dy[i]) * (edge - z);
          dz_c -= static_cast<double>(dy[i]) * s;
        } else {
          ds_c += static_cast<double>(dy[i]) * (static_cast<double>(r) - static_cast<double>(v));
        }
      }
      ds_sum[static_cast<std::size_t>(c)] += ds_c;
      dz_sum[static_cast<std::size_t>(c)] += dz_c;
    }
  }
  for (int64_t c = 0; c < layout.channels; ++c) {
    if (ds != nullptr) ds[c] += static_cast<float>(g * ds_sum[static_cast<std::size_t>(c)]);
    if (dz != nullptr) dz[c] += static_cast<float>(g * dz_sum[static_cast<std::size_t>(c)]);
  }
  return Status::ok();
}

}  // namespace

Status fake_quant_backward(const GradientArgs& args) {
  const ir::Node& node = args.node;
  QRT_RETURN_IF_ERROR(expect_arity(args, 1, 3, 1, 1));
  QRT_ASSIGN_OR_RETURN(const ir::FakeQuantAttrs* attrs, gradient_attrs<ir::FakeQuantAttrs>(node));
  const float* dy = output_grad(args, 0);
  if (dy == nullptr) return Status::ok();  // y does not reach the loss
  if (attrs->mode == ir::FakeQuantMode::kNF4) {
    if (float* dx = wanted_grad(args, kX)) accumulate(dx, dy, args.inputs[kX].numel());
    return Status::ok();
  }
  if (attrs->mode != ir::FakeQuantMode::kInteger)
    return gradient_error(node, "unknown mode " + std::to_string(static_cast<int>(attrs->mode)));
  return integer_backward(args, *attrs, dy);
}

}  // namespace qrt::train
