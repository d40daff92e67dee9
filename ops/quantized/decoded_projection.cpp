#include "ops/quantized/decoded_projection.h"

#include <string>
#include <vector>

#include "ir/quantize.h"
#include "ops/cpu_parallel.h"
#include "ops/gemm_f32.h"
#include "ops/kernel_support.h"
#include "ops/quantized/lane_packed_gemm.h"
#include "ops/quantized/quantized_support.h"

namespace qrt::ops::quantized {

namespace {

// On AVX-512 CPUs the decoded weight is also packed by lanes (lane_packed_gemm.h): with K this
// short a dot-product kernel would spend more on the horizontal sum of each output than on its K
// multiply-adds.
class DecodedF32Projection final : public Projection {
 public:
  DecodedF32Projection(int64_t N, int64_t K, std::vector<float> w)
      : N_(N), K_(K), w_(std::move(w)) {
    if (weight_only_gemm_available()) {
      packed_ = pack_weights_by_lanes(w_.data(), WeightCode::kF32, N_, K_, nullptr);
      w_.clear();
      w_.shrink_to_fit();
    }
  }

  std::size_t workspace_bytes(int64_t /*max_rows*/) const override { return 0; }

  void run(int64_t rows, const float* x, int64_t ldx, const void* /*weight*/, const void* bias,
           float* y, int64_t ldy, void* /*workspace*/) const override {
    if (!packed_.bytes.empty()) {
      lane_packed_gemm(packed_, x, ldx, rows, static_cast<const float*>(bias), y, ldy,
                       OutputRounding::kNone, default_cpu_threads());
      return;
    }
    gemm_xwt_f32(rows, N_, K_, x, ldx, w_.data(), static_cast<const float*>(bias), y, ldy,
                 default_cpu_threads());
  }

  std::string describe() const override {
    return "f32 weights decoded at prepare, K=" + std::to_string(K_) + " < " +
           std::to_string(kMinQuantizedK);
  }

 private:
  int64_t N_, K_;
  std::vector<float> w_;      // Ŵ [N, K] (portable path)
  LanePackedWeights packed_;  // Ŵ packed by lanes (AVX-512 path)
};

// int8-static is left out: its activations may arrive as int8 codes from the previous node in a
// static chain, and its calibrated scales are part of what its tests pin down exactly.
bool stores_codes(ir::Precision precision) {
  return precision == ir::Precision::kW8A16 || precision == ir::Precision::kInt8Dynamic ||
         precision == ir::Precision::kNF4;
}

}  // namespace

bool prefers_decoded_f32(ir::Precision precision, const ProjectionSpec& spec) {
  return stores_codes(precision) && spec.K < kMinQuantizedK;
}

Result<std::unique_ptr<Projection>> make_decoded_f32_projection(ir::Precision precision,
                                                                const ProjectionSpec& spec) {
  const ir::Value& w = *spec.weight;
  std::vector<float> decoded(static_cast<std::size_t>(spec.N * spec.K));
  if (precision == ir::Precision::kNF4) {
    QRT_ASSIGN_OR_RETURN(decoded, ir::dequantize_nf4(w.data->as<uint8_t>(), w.shape, *w.quant));
  } else {
    QRT_ASSIGN_OR_RETURN(std::vector<float> scales, int8_weight_scales(spec));
    const auto q = w.data->as<int8_t>();
    if (static_cast<int64_t>(q.size()) < spec.N * spec.K)
      return node_error(*spec.node, spec.what + " '" + w.name + "' holds " +
                                        std::to_string(q.size()) + " bytes, expected " +
                                        std::to_string(spec.N * spec.K));
    for (int64_t n = 0; n < spec.N; ++n)
      for (int64_t k = 0; k < spec.K; ++k)
        decoded[n * spec.K + k] = scales[n] * static_cast<float>(q[n * spec.K + k]);
  }
  return std::unique_ptr<Projection>(
      std::make_unique<DecodedF32Projection>(spec.N, spec.K, std::move(decoded)));
}

}  // namespace qrt::ops::quantized
