// FakeQuant on the CPU (the quantization design notes, sections 1, 5 and 8).
//   kInteger: y = s·(clamp(round(x / s) + z, qmin, qmax) - z), one (s, z) per tensor or per slice
//             along `axis`; element i of x [outer, C, inner] uses slice (i / inner) % C.
//   kNF4:     y = dequantize_nf4(quantize_nf4(x)) with x viewed as rows of its last dim.
// The reference definition is the pair of primitives of ir/quantize.h; this kernel reproduces them
// bit for bit (kInteger through fake_quant_value, kNF4 by calling them).
#include "ops/fake_quant.h"

#include <string>
#include <vector>

#include "ir/op_schema.h"
#include "ir/quantize.h"
#include "ops/kernel_support.h"

namespace qrt::ops {

namespace {

class FakeQuantKernel final : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    QRT_ASSIGN_OR_RETURN(const ir::FakeQuantAttrs* attrs, node_attrs<ir::FakeQuantAttrs>(node));
    attrs_ = *attrs;
    label_ = ir::node_label(node);
    QRT_RETURN_IF_ERROR(check_context(ctx, 1, 3, 1, 1));
    x_shape_ = ctx.input_types[0]->shape;
    QRT_RETURN_IF_ERROR(expect_shape(node, "output y", ctx.output_types[0]->shape, x_shape_));
    const auto present = [&](std::size_t i) {
      return i < ctx.input_types.size() && ctx.input_types[i] != nullptr;
    };
    if (attrs_.mode == ir::FakeQuantMode::kNF4) {
      if (present(1) || present(2))
        return node_error(node, "an NF4 FakeQuant takes no scale or zero_point input");
      if (x_shape_.empty()) return node_error(node, "x is a scalar, expected [..., K]");
      rows_ = x_shape_.back() == 0 ? 0 : ir::numel(x_shape_) / x_shape_.back();
      return Status::ok();
    }
    if (attrs_.mode != ir::FakeQuantMode::kInteger)
      return node_error(node, "unknown mode " + std::to_string(static_cast<int>(attrs_.mode)));
    if (attrs_.bits < 2 || attrs_.bits > 8)
      return node_error(node, "bits " + std::to_string(attrs_.bits) + " outside 2..8");
    range_ = ir::fake_quant_range(attrs_);
    // x as [outer, channels, inner]: per tensor is channels = 1, inner = numel.
    const auto rank = static_cast<int64_t>(x_shape_.size());
    channels_ = 1;
    inner_ = ir::numel(x_shape_);
    if (attrs_.per_channel) {
      if (attrs_.axis < -rank || attrs_.axis >= rank)
        return node_error(node, "axis " + std::to_string(attrs_.axis) + " out of range for x " +
                                    ir::shape_to_string(x_shape_));
      const int64_t axis = attrs_.axis < 0 ? attrs_.axis + rank : attrs_.axis;
      channels_ = x_shape_[static_cast<std::size_t>(axis)];
      inner_ = 1;
      for (int64_t d = axis + 1; d < rank; ++d) inner_ *= x_shape_[static_cast<std::size_t>(d)];
    }
    if (!present(1)) return node_error(node, "required input 1 (scale) is missing");
    QRT_RETURN_IF_ERROR(expect_shape(node, "scale", ctx.input_types[1]->shape, {channels_}));
    has_zero_point_ = present(2);
    if (has_zero_point_ == attrs_.symmetric)
      return node_error(node, attrs_.symmetric ? "a symmetric FakeQuant takes no zero_point"
                                               : "an affine FakeQuant needs a zero_point input");
    if (has_zero_point_)
      QRT_RETURN_IF_ERROR(expect_shape(node, "zero_point", ctx.input_types[2]->shape, {channels_}));
    return Status::ok();
  }

  Status run(const runtime::RunContext& ctx) override {
    if (attrs_.mode == ir::FakeQuantMode::kNF4) return run_nf4(ctx);
    const float* x = ctx.inputs[0].as<float>();
    const float* scale = ctx.inputs[1].as<float>();
    const float* zero_point = has_zero_point_ ? ctx.inputs[2].as<float>() : nullptr;
    float* y = ctx.outputs[0].as<float>();
    // The scale and zero point may be trained between runs: check them every time.
    for (int64_t c = 0; c < channels_; ++c) {
      if (!std::isfinite(scale[c]) || !(scale[c] > 0.0f))
        return invalid_argument(label_ + "scale #" + std::to_string(c) + " is " +
                                std::to_string(scale[c]) + ", must be finite and > 0");
      if (zero_point != nullptr && !std::isfinite(zero_point[c]))
        return invalid_argument(label_ + "zero_point #" + std::to_string(c) + " is " +
                                std::to_string(zero_point[c]) + ", must be finite");
    }
    const int64_t n = ir::numel(x_shape_);
    const int64_t slice_stride = channels_ * inner_;
    for (int64_t begin = 0; begin < n; begin += slice_stride) {
      for (int64_t c = 0; c < channels_; ++c) {
        const float s = scale[c];
        const int32_t z =
            zero_point != nullptr ? ir::fake_quant_zero_point(zero_point[c], range_) : 0;
        const int64_t first = begin + c * inner_;
        for (int64_t i = first; i < first + inner_; ++i) {
          if (!std::isfinite(x[i]))
            return invalid_argument(label_ + "x element " + std::to_string(i) + " is " +
                                    std::to_string(x[i]) + " (values must be finite)");
          y[i] = fake_quant_value(x[i], s, z, range_);
        }
      }
    }
    return Status::ok();
  }

 private:
  // The primitives themselves (they allocate; this is the reference kernel, exact by
  // construction).
  Status run_nf4(const runtime::RunContext& ctx) const {
    const int64_t n = ir::numel(x_shape_);
    if (n == 0) return Status::ok();
    const ir::Shape rows_shape{rows_, x_shape_.back()};
    const ir::FloatTensorView view{
        std::span<const float>(ctx.inputs[0].as<float>(), static_cast<std::size_t>(n)), rows_shape};
    Result<ir::Nf4Weight> q = ir::quantize_nf4(view, attrs_.block_size, attrs_.double_quant);
    if (!q.is_ok()) return q.status().with_context(label_ + "nf4 mode");
    Result<std::vector<float>> y = ir::dequantize_nf4(q->packed, rows_shape, q->params);
    if (!y.is_ok()) return y.status().with_context(label_ + "nf4 mode");
    std::copy(y->begin(), y->end(), ctx.outputs[0].as<float>());
    return Status::ok();
  }

  ir::FakeQuantAttrs attrs_;
  std::string label_;  // "node 'x.fake_quant' (FakeQuant): ", for run-time errors
  ir::FakeQuantRange range_;
  ir::Shape x_shape_;
  int64_t channels_ = 1, inner_ = 1, rows_ = 0;
  bool has_zero_point_ = false;
};

}  // namespace

std::unique_ptr<runtime::Kernel> make_fake_quant_kernel() {
  return std::make_unique<FakeQuantKernel>();
}

}  // namespace qrt::ops
