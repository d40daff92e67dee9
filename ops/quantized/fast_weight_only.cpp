// Fast fp16 / bf16 and w8a16 projections: the arithmetic of linear_half.cpp and linear_w8a16.cpp
// (docs/quantization.md §2, §6) on lane_packed_gemm.h: the weight is repacked once in prepare so
// that 16 output columns share a vector, and converted in registers instead of being decoded one
// row into memory per output column on every call. Without AVX-512 the references run.
#include <string>
#include <vector>

#include "ir/half.h"
#include "ops/cpu_parallel.h"
#include "ops/kernel_support.h"
#include "ops/quantized/half_bias.h"
#include "ops/quantized/lane_packed_gemm.h"
#include "ops/quantized/projection.h"
#include "ops/quantized/quantized_support.h"
#include "ops/quantized/weight_only_gemm.h"

namespace qrt::ops::quantized {

namespace {

// y = half(Σ_k half(x)·W + b): x is rounded into the workspace, the GEMM rounds y. The weight is
// repacked by lanes in prepare (lane_packed_gemm.h).
class FastHalfProjection final : public Projection {
 public:
  FastHalfProjection(LanePackedWeights w, bool bf16, std::vector<float> decoded_bias, bool f32_bias)
      : w_(std::move(w)),
        bf16_(bf16),
        decoded_bias_(std::move(decoded_bias)),
        f32_bias_(f32_bias) {}

  std::size_t workspace_bytes(int64_t max_rows) const override {
    WorkspaceCarver carver;
    carver.take<float>(max_rows * w_.K);  // x rounded to the half type
    return carver.used();
  }

  void run(int64_t rows, const float* x, int64_t ldx, const void* /*weight*/, const void* bias,
           float* y, int64_t ldy, void* workspace) const override {
    WorkspaceCarver carver(workspace);
    const int64_t K = w_.K;
    float* x_half = carver.take<float>(rows * K);
    const OutputRounding r = bf16_ ? OutputRounding::kBF16 : OutputRounding::kF16;
    for (int64_t m = 0; m < rows; ++m) round_to_half(x + m * ldx, K, x_half + m * K, r);
    const float* b = f32_bias_ ? static_cast<const float*>(bias)
                               : (decoded_bias_.empty() ? nullptr : decoded_bias_.data());
    lane_packed_gemm(w_, x_half, K, rows, b, y, ldy, r, default_cpu_threads());
  }

  std::string describe() const override {
    return bf16_ ? "avx512, bf16 weights packed by lanes, widened in registers"
                 : "avx512, f16 weights packed by lanes, converted in registers";
  }

 private:
  LanePackedWeights w_;
  bool bf16_;
  std::vector<float> decoded_bias_;
  bool f32_bias_;
};

class FastW8A16Projection final : public Projection {
 public:
  explicit FastW8A16Projection(LanePackedWeights w) : w_(std::move(w)) {}

  std::size_t workspace_bytes(int64_t /*max_rows*/) const override { return 0; }

  void run(int64_t rows, const float* x, int64_t ldx, const void* /*weight*/, const void* bias,
           float* y, int64_t ldy, void* /*workspace*/) const override {
    lane_packed_gemm(w_, x, ldx, rows, static_cast<const float*>(bias), y, ldy,
                     OutputRounding::kNone, default_cpu_threads());
  }

  std::string describe() const override {
    return "avx512, int8 weights packed by lanes, dequantized in registers";
  }

 private:
  LanePackedWeights w_;
};

// The weight's codes, checked to hold N·K elements of `element_bytes`.
Result<const void*> weight_codes(const ProjectionSpec& spec, std::size_t element_bytes) {
  const ir::Value& w = *spec.weight;
  const std::size_t need = static_cast<std::size_t>(spec.N * spec.K) * element_bytes;
  if (w.data->size() < need)
    return node_error(*spec.node, spec.what + " '" + w.name + "' holds " +
                                      std::to_string(w.data->size()) + " bytes, expected " +
                                      std::to_string(need));
  return static_cast<const void*>(w.data->data());
}

}  // namespace

Result<std::unique_ptr<Projection>> make_fast_half_projection(const ProjectionSpec& spec,
                                                              bool bf16) {
  if (!weight_only_gemm_available()) return make_half_projection(spec, bf16);
  QRT_ASSIGN_OR_RETURN(HalfBias bias, decode_half_bias(spec, bf16));
  QRT_ASSIGN_OR_RETURN(const void* codes, weight_codes(spec, 2));
  LanePackedWeights packed = pack_weights_by_lanes(
      codes, bf16 ? WeightCode::kBF16 : WeightCode::kF16, spec.N, spec.K, nullptr);
  return std::unique_ptr<Projection>(std::make_unique<FastHalfProjection>(
      std::move(packed), bf16, std::move(bias.decoded), bias.from_f32_input));
}

Result<std::unique_ptr<Projection>> make_fast_w8a16_projection(const ProjectionSpec& spec) {
  if (!weight_only_gemm_available()) return make_w8a16_projection(spec);
  QRT_ASSIGN_OR_RETURN(std::vector<float> scales, int8_weight_scales(spec));
  QRT_ASSIGN_OR_RETURN(const void* codes, weight_codes(spec, 1));
  return std::unique_ptr<Projection>(std::make_unique<FastW8A16Projection>(
      pack_weights_by_lanes(codes, WeightCode::kInt8, spec.N, spec.K, scales.data())));
}

}  // namespace qrt::ops::quantized
