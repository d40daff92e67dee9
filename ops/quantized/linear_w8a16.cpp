// Weight-only int8 projection, W8A16 (docs/quantization.md §2): W stored int8 symmetric per output
// channel, activations stay float; each weight row is dequantized (Ŵ[n, k] = s_w[n]·q[n, k]) into
// a row buffer and the products are accumulated in f32:
//   y[m, n] = Σ_k x[m, k]·Ŵ[n, k] + b[n]
#include <cmath>
#include <vector>

#include "ops/kernel_support.h"
#include "ops/quantized/projection.h"
#include "ops/quantized/quantized_support.h"

namespace qrt::ops::quantized {

namespace {

class W8A16Projection final : public Projection {
 public:
  W8A16Projection(int64_t N, int64_t K, std::vector<float> scales)
      : N_(N), K_(K), scales_(std::move(scales)) {}

  std::size_t workspace_bytes(int64_t /*max_rows*/) const override {
    WorkspaceCarver carver;
    carver.take<float>(K_);  // one dequantized weight row
    return carver.used();
  }

  void run(int64_t rows, const float* x, int64_t ldx, const void* weight, const void* bias,
           float* y, int64_t ldy, void* workspace) const override {
    WorkspaceCarver carver(workspace);
    float* w_row = carver.take<float>(K_);
    const auto* q = static_cast<const int8_t*>(weight);
    const auto* b = static_cast<const float*>(bias);
    for (int64_t n = 0; n < N_; ++n) {
      const float s = scales_[static_cast<std::size_t>(n)];
      for (int64_t k = 0; k < K_; ++k) w_row[k] = s * static_cast<float>(q[n * K_ + k]);
      const float bn = b != nullptr ? b[n] : 0.0f;
      for (int64_t m = 0; m < rows; ++m) {
        const float* xr = x + m * ldx;
        float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
        for (int64_t k = 0; k < K_; ++k) acc += xr[k] * w_row[k];
        y[m * ldy + n] = acc + bn;
      }
    }
  }

 private:
  int64_t N_, K_;
  std::vector<float> scales_;
};

}  // namespace

// The per-channel scales of an int8 weight [N, K], checked (one finite positive scale per row).
Result<std::vector<float>> int8_weight_scales(const ProjectionSpec& spec) {
  const ir::QuantParams& q = *spec.weight->quant;
  const std::string label = spec.what + " '" + spec.weight->name + "'";
  if (static_cast<int64_t>(q.scales.size()) != spec.N)
    return node_error(*spec.node, label + " has " + std::to_string(q.scales.size()) +
                                      " scales, expected one per output channel (" +
                                      std::to_string(spec.N) + ")");
  for (std::size_t n = 0; n < q.scales.size(); ++n)
    if (!(q.scales[n] > 0.0f) || !std::isfinite(q.scales[n]))
      return node_error(*spec.node, label + " scale " + std::to_string(n) + " is " +
                                        std::to_string(q.scales[n]) + ", expected finite and > 0");
  return q.scales;
}

Result<std::unique_ptr<Projection>> make_w8a16_projection(const ProjectionSpec& spec) {
  QRT_ASSIGN_OR_RETURN(std::vector<float> scales, int8_weight_scales(spec));
  return std::unique_ptr<Projection>(
      std::make_unique<W8A16Projection>(spec.N, spec.K, std::move(scales)));
}

}  // namespace qrt::ops::quantized
