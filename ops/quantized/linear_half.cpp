// FP16 / BF16 projection (docs/quantization.md §6): weights stored as f16 / bf16, activations
// rounded to the same type, products accumulated in f32, the result (bias included) rounded to
// the half type once more:
//   y[m, n] = half( Σ_k half(x[m, k])·W[n, k] + b[n] )
// W is decoded one row at a time into the workspace and reused by every x row.
#include <vector>

#include "ir/half.h"
#include "ops/kernel_support.h"
#include "ops/quantized/half_bias.h"
#include "ops/quantized/projection.h"
#include "ops/quantized/quantized_support.h"

namespace qrt::ops::quantized {

namespace {

class HalfProjection final : public Projection {
 public:
  HalfProjection(int64_t N, int64_t K, bool bf16, std::vector<float> decoded_bias, bool f32_bias)
      : N_(N), K_(K), bf16_(bf16), decoded_bias_(std::move(decoded_bias)), f32_bias_(f32_bias) {}

  std::size_t workspace_bytes(int64_t max_rows) const override {
    WorkspaceCarver carver;
    carver.take<float>(max_rows * K_);  // x rounded to the half type
    carver.take<float>(K_);             // one decoded weight row
    return carver.used();
  }

  void run(int64_t rows, const float* x, int64_t ldx, const void* weight, const void* bias,
           float* y, int64_t ldy, void* workspace) const override {
    WorkspaceCarver carver(workspace);
    float* x_half = carver.take<float>(rows * K_);
    float* w_row = carver.take<float>(K_);
    for (int64_t m = 0; m < rows; ++m)
      for (int64_t k = 0; k < K_; ++k) x_half[m * K_ + k] = round(x[m * ldx + k]);
    const auto* w = static_cast<const uint16_t*>(weight);
    const float* b = f32_bias_ ? static_cast<const float*>(bias) : decoded_bias_.data();
    if (!f32_bias_ && decoded_bias_.empty()) b = nullptr;
    for (int64_t n = 0; n < N_; ++n) {
      for (int64_t k = 0; k < K_; ++k) w_row[k] = decode(w[n * K_ + k]);
      const float bn = b != nullptr ? b[n] : 0.0f;
      for (int64_t m = 0; m < rows; ++m) {
        const float* xr = x_half + m * K_;
        float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
        for (int64_t k = 0; k < K_; ++k) acc += xr[k] * w_row[k];
        y[m * ldy + n] = round(acc + bn);
      }
    }
  }

 private:
  float round(float v) const {
    return bf16_ ? ir::round_to_bf16(v) : ir::round_to_f16(v);
  }
  float decode(uint16_t bits) const {
    return bf16_ ? ir::bf16_bits_to_float(bits) : ir::f16_bits_to_float(bits);
  }

  int64_t N_, K_;
  bool bf16_;
  std::vector<float> decoded_bias_;  // a bias stored in the half type, decoded in prepare
  bool f32_bias_;                    // the bias (if any) is read from the run-time f32 input
};

}  // namespace

Result<HalfBias> decode_half_bias(const ProjectionSpec& spec, bool bf16) {
  HalfBias bias;
  bias.from_f32_input = spec.bias == nullptr || spec.bias->dtype == ir::DType::kF32;
  if (bias.from_f32_input) return bias;
  QRT_RETURN_IF_ERROR(require_constant(*spec.node, "bias of " + spec.what, *spec.bias));
  const auto bits = spec.bias->data->as<uint16_t>();
  if (static_cast<int64_t>(bits.size()) < spec.N)
    return node_error(*spec.node, "bias '" + spec.bias->name + "' holds " +
                                      std::to_string(bits.size()) + " values, expected " +
                                      std::to_string(spec.N));
  bias.decoded.resize(static_cast<std::size_t>(spec.N));
  for (int64_t n = 0; n < spec.N; ++n)
    bias.decoded[n] = bf16 ? ir::bf16_bits_to_float(bits[n]) : ir::f16_bits_to_float(bits[n]);
  return bias;
}

Result<std::unique_ptr<Projection>> make_half_projection(const ProjectionSpec& spec, bool bf16) {
  QRT_ASSIGN_OR_RETURN(HalfBias bias, decode_half_bias(spec, bf16));
  return std::unique_ptr<Projection>(std::make_unique<HalfProjection>(
      spec.N, spec.K, bf16, std::move(bias.decoded), bias.from_f32_input));
}

}  // namespace qrt::ops::quantized
