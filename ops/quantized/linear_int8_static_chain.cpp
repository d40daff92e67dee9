// The int8-static Linear of a static int8 chain (ir/precision.h, docs/quantization.md §4): W int8
// symmetric per output channel, x either float with calibrated per-tensor parameters (quantized
// here) or int8 codes written by the previous op (read as they are), y either float or int8 codes
// requantized with the next op's calibrated parameters (s_y, z_y):
//   acc'[m, n] = Σ_k qx[m, k]·qw[n, k] − z_x·Σ_k qw[n, k]
//   y_f[m, n]  = act(s_x·s_w[n]·acc'[m, n] + b[n])            (act: the fused activation, if any)
//   y          = y_f                                           (float output)
//   q_y        = clamp(round(y_f / s_y) + z_y, qmin, qmax)     (int8 output)
// The int8 output is the float output quantized by the same expression the next int8-static node
// applies to a float input (quantize_row_fixed), so a chain computes the codes the float-between-
// ops graph computes. uint8-range codes (affine) enter the s8×s8 GEMM shifted by −128, which leaves
// Σ (qx − z_x)·qw unchanged. The GEMM runs on weights packed once in prepare (packed_int8_weight.h,
// the VNNI layout) over the CPU's threads; integer results equal the reference GEMM's exactly.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "ir/op_schema.h"
#include "ops/activation.h"
#include "ops/cpu_parallel.h"
#include "ops/int8_gemm.h"
#include "ops/kernel_support.h"
#include "ops/quantized/int8_chain_kernels.h"
#include "ops/quantized/packed_int8_weight.h"
#include "ops/quantized/projection.h"
#include "ops/quantized/quantized_support.h"

namespace qrt::ops::quantized {

namespace {

constexpr std::size_t kX = 0, kWeight = 1, kBias = 2;
constexpr int32_t kUint8Offset = 128;

// Float data an int8-static node may read or write: f32, plain or with per-tensor calibration
// parameters (an annotation for the int8-static reader; the bytes are float).
bool is_annotated_f32(const ir::Value& v) {
  if (v.dtype != ir::DType::kF32 || v.is_constant()) return false;
  if (!v.quant || v.quant->scheme == ir::QuantScheme::kNone) return true;
  return v.quant->scheme == ir::QuantScheme::kSymmetricPerTensor ||
         v.quant->scheme == ir::QuantScheme::kAffinePerTensor;
}

bool is_plain(const ir::Value& v) {
  return v.dtype == ir::DType::kF32 && (!v.quant || v.quant->scheme == ir::QuantScheme::kNone);
}

class Int8StaticChainLinearKernel final : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    QRT_ASSIGN_OR_RETURN(const ir::LinearAttrs* attrs, node_attrs<ir::LinearAttrs>(node));
    activation_ = attrs->activation;
    if (node_precision(node) != ir::Precision::kInt8Static)
      return node_error(node, "precision '" + node.precision.precision +
                                  "' but this is the int8-static chain kernel");
    if (node.inputs.size() < 2 || node.inputs.size() > 3 || node.outputs.size() != 1 ||
        ctx.input_types.size() != node.inputs.size() || ctx.output_types.size() != 1)
      return node_error(node, "expected inputs x, weight, bias? and one output y");
    const ir::Value* x = value_of(ctx.graph, node.inputs[kX]);
    const ir::Value* w = value_of(ctx.graph, node.inputs[kWeight]);
    const bool has_bias = node.inputs.size() > kBias && node.inputs[kBias] != ir::kNoValue;
    const ir::Value* b = has_bias ? value_of(ctx.graph, node.inputs[kBias]) : nullptr;
    const ir::Value* y = value_of(ctx.graph, node.outputs[0]);
    if (x == nullptr || w == nullptr || y == nullptr || ctx.input_types[kX] == nullptr ||
        ctx.output_types[0] == nullptr || (has_bias && b == nullptr))
      return node_error(node, "input x, weight and output y are required");

    x_codes_ = is_int8_activation(*x);
    if (!x_codes_ && !activation_has_form(ir::Precision::kInt8Static, *x))
      return node_error(node, "input x '" + x->name +
                                  "' is neither int8 codes nor f32 with calibrated per-tensor "
                                  "parameters");
    if (ctx.input_types[kX]->dtype != x->dtype)
      return node_error(node, "input x '" + x->name + "' has run-time dtype " +
                                  ir::dtype_name(ctx.input_types[kX]->dtype) + ", declared " +
                                  ir::dtype_name(x->dtype));
    y_codes_ = is_int8_activation(*y);
    if (!y_codes_ && !is_annotated_f32(*y))
      return node_error(node, "output y '" + y->name + "' is neither int8 codes nor f32");
    if (ctx.output_types[0]->dtype != y->dtype)
      return node_error(node, "output y '" + y->name + "' has dtype " +
                                  ir::dtype_name(ctx.output_types[0]->dtype) + ", declared " +
                                  ir::dtype_name(y->dtype));
    if (!weight_has_form(ir::Precision::kInt8Static, *w))
      return node_error(node, "weight '" + w->name +
                                  "' is not an i8 [N, K] constant, symmetric per output channel");
    if (b != nullptr && (!is_plain(*b) || !b->is_constant() || b->shape.size() != 1))
      return node_error(node, "bias '" + b->name + "' must be an f32 [N] constant");

    const ir::Shape& xs = ctx.input_types[kX]->shape;
    if (xs.empty() || !ir::is_static(xs))
      return node_error(
          node, "input x has shape " + ir::shape_to_string(xs) + ", expected a concrete [..., K]");
    N_ = w->shape[0];
    K_ = w->shape[1];
    if (xs.back() != K_)
      return node_error(node, "input x has shape " + ir::shape_to_string(xs) +
                                  ", last dim must be " + std::to_string(K_) +
                                  " (K of weight [N, K])");
    if (b != nullptr && b->shape[0] != N_)
      return node_error(node, "bias '" + b->name + "' has shape " + ir::shape_to_string(b->shape) +
                                  ", expected [" + std::to_string(N_) + "]");
    ir::Shape ys = xs;
    ys.back() = N_;
    QRT_RETURN_IF_ERROR(expect_shape(node, "output y", ctx.output_types[0]->shape, ys));
    M_ = ir::numel(ir::Shape(xs.begin(), xs.end() - 1));

    ProjectionSpec spec;
    spec.node = &node;
    spec.what = "weight";
    spec.weight = w;
    spec.N = N_;
    spec.K = K_;
    QRT_ASSIGN_OR_RETURN(weight_, pack_int8_weight(spec));
    row_sums_ = int8_weight_row_sums(w->data->as<int8_t>().data(), N_, K_);
    node_label_ = ir::node_label(node);
    input_name_ = "input '" + x->name + "'";
    bias_.assign(static_cast<std::size_t>(N_), 0.0f);
    if (b != nullptr) {
      const auto bias = b->data->as<float>();
      std::copy(bias.begin(), bias.end(), bias_.begin());
    }
    QRT_ASSIGN_OR_RETURN(in_, ir::fixed_activation_quant(node, *x));
    in_offset_ = in_.qmin >= 0 ? kUint8Offset : 0;
    if (y_codes_) {
      QRT_ASSIGN_OR_RETURN(out_, ir::fixed_activation_quant(node, *y));
    }
    return Status::ok();
  }

  std::size_t workspace_bytes() const override {
    WorkspaceCarver carver;
    if (needs_code_copy()) carver.take<int8_t>(M_ * K_);
    carver.take<int32_t>(M_ * N_);
    carver.take<float>(N_);
    return carver.used();
  }

  Status run(const runtime::RunContext& ctx) override {
    WorkspaceCarver carver(ctx.workspace);
    int8_t* copy = needs_code_copy() ? carver.take<int8_t>(M_ * K_) : nullptr;
    int32_t* acc = carver.take<int32_t>(M_ * N_);
    float* row = carver.take<float>(N_);
    QRT_ASSIGN_OR_RETURN(const int8_t* qx, input_codes(ctx.inputs[kX], copy));
    gemm_s8s8_s32_packed(qx, static_cast<std::size_t>(K_), weight_.codes, acc,
                         static_cast<std::size_t>(N_), static_cast<std::size_t>(M_),
                         default_cpu_threads());
    const int32_t z = in_.zero_point - in_offset_;
    for (int64_t m = 0; m < M_; ++m) {
      const int32_t* a = acc + m * N_;
      float* y_row = y_codes_ ? row : ctx.outputs[0].as<float>() + m * N_;
      for (int64_t n = 0; n < N_; ++n) {
        const auto c = static_cast<std::size_t>(n);
        y_row[n] =
            in_.scale * weight_.scales[c] * static_cast<float>(a[n] - z * row_sums_[c]) + bias_[c];
      }
      apply_activation(activation_, y_row, y_row, N_);
      if (!y_codes_) continue;
      if (out_.qmin >= 0) {  // uint8-range codes stored as u8
        store_codes(row, ctx.outputs[0].as<uint8_t>() + m * N_);
      } else {
        store_codes(row, ctx.outputs[0].as<int8_t>() + m * N_);
      }
    }
    return Status::ok();
  }

  std::string describe() const override {
    return std::string("int8 GEMM ") + gemm_s8s8_s32_packed_implementation() +
           ", weights prepacked" + (x_codes_ ? ", int8 input" : "") +
           (y_codes_ ? ", requantized int8 output" : "");
  }

 private:
  bool needs_code_copy() const { return !x_codes_ || in_.qmin >= 0; }

  // The s8 codes the GEMM reads: the input itself for i8 codes, else quantized (f32) or shifted
  // by −128 (u8) into `copy`. Converting NaN or ±inf to a code is undefined: a float input holding
  // one fails, naming the input and position.
  Result<const int8_t*> input_codes(const runtime::ConstTensorView& x, int8_t* copy) const {
    if (!x_codes_) {
      const float* xf = x.as<float>();
      for (int64_t m = 0; m < M_; ++m) {
        int64_t bad = 0;
        if (!quantize_row_fixed_checked(xf + m * K_, K_, in_, in_offset_, copy + m * K_, &bad))
          return nonfinite_activation_error(node_label_, ir::Precision::kInt8Static, input_name_,
                                            xf[m * K_ + bad], m, bad);
      }
      return copy;
    }
    if (in_.qmin < 0) return x.as<int8_t>();
    const uint8_t* codes = x.as<uint8_t>();
    for (int64_t i = 0; i < M_ * K_; ++i)
      copy[i] = static_cast<int8_t>(static_cast<int32_t>(codes[i]) - kUint8Offset);
    return copy;
  }

  // q = clamp(round_half_even(y_f / s_y) + z_y, qmin, qmax): quantize_row_fixed's expression.
  template <typename T>
  void store_codes(const float* y_f, T* q) const {
    const auto lo = static_cast<float>(out_.qmin), hi = static_cast<float>(out_.qmax);
    const auto z = static_cast<float>(out_.zero_point);
    for (int64_t n = 0; n < N_; ++n)
      q[n] = static_cast<T>(
          static_cast<int32_t>(std::clamp(std::nearbyint(y_f[n] / out_.scale) + z, lo, hi)));
  }

  bool x_codes_ = false, y_codes_ = false;
  ir::FusedActivation activation_ = ir::FusedActivation::kNone;
  int64_t M_ = 0, N_ = 0, K_ = 0;
  PackedInt8Weight weight_;        // s_w[n] and the packed codes
  std::vector<int32_t> row_sums_;  // Σ_k qw[n, k]
  std::vector<float> bias_;        // b[n], 0 without a bias
  std::string node_label_, input_name_;
  ActivationQuant in_, out_;
  int32_t in_offset_ = 0;  // 128 for uint8-range input codes, else 0
};

}  // namespace

bool supports_int8_static_chain_linear(const ir::Graph& graph, const ir::Node& node) {
  if (node.op != ir::OpKind::kLinear || node_precision(node) != ir::Precision::kInt8Static)
    return false;
  if (node.inputs.size() < 2 || node.inputs.size() > 3 || node.outputs.size() != 1) return false;
  const ir::Value* x = value_of(graph, node.inputs[kX]);
  const ir::Value* w = value_of(graph, node.inputs[kWeight]);
  const ir::Value* y = value_of(graph, node.outputs[0]);
  const bool has_bias = node.inputs.size() > kBias && node.inputs[kBias] != ir::kNoValue;
  const ir::Value* b = has_bias ? value_of(graph, node.inputs[kBias]) : nullptr;
  if (x == nullptr || w == nullptr || y == nullptr || (has_bias && b == nullptr)) return false;
  if (b != nullptr && !is_plain(*b)) return false;
  const bool x_ok = is_int8_activation(*x) || activation_has_form(ir::Precision::kInt8Static, *x);
  const bool y_ok = is_int8_activation(*y) || is_annotated_f32(*y);
  // Plain float in and out is the ordinary int8-static kernel's node.
  const bool chain = is_int8_activation(*x) || !is_plain(*y);
  return x_ok && y_ok && chain && weight_has_form(ir::Precision::kInt8Static, *w);
}

std::unique_ptr<runtime::Kernel> make_int8_static_chain_linear_kernel() {
  return std::make_unique<Int8StaticChainLinearKernel>();
}

}  // namespace qrt::ops::quantized
