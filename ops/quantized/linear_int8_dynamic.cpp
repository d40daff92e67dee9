// Dynamic int8 projection, W8A8 (docs/quantization.md §3, PyTorch quantize_dynamic with one scale
// per activation row): W int8 symmetric per output channel (offline); each row of x quantized at
// run time, symmetric int8, its own scale; int32 accumulation:
//   y[m, n] = s_x[m]·s_w[n]·Σ_k qx[m, k]·qw[n, k] + b[n]
// LLM.int8() outlier decomposition (Dettmers et al. 2022; bitsandbytes Linear8bitLt), on when
// threshold > 0: the columns O = {k : any |x[m, k]| >= threshold} are left out of the int8 path
// (their codes are 0 and they do not enter the row scale) and computed in float against the
// dequantized weight columns; the two partial results are added:
//   y[m, n] = s_x[m]·s_w[n]·Σ_{k∉O} qx·qw + Σ_{k∈O} x[m, k]·s_w[n]·qw[n, k] + b[n]
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ir/op_schema.h"
#include "ops/int8_gemm.h"
#include "ops/kernel_support.h"
#include "ops/quantized/projection.h"
#include "ops/quantized/quantized_support.h"

namespace qrt::ops::quantized {

namespace {

constexpr float kInt8Max = 127.0f;

class Int8DynamicProjection final : public Projection {
 public:
  Int8DynamicProjection(int64_t N, int64_t K, std::vector<float> scales, float threshold,
                        std::string node_label, std::string input)
      : N_(N),
        K_(K),
        scales_(std::move(scales)),
        threshold_(threshold),
        node_label_(std::move(node_label)),
        input_(std::move(input)) {}

  // Any |x| >= threshold: an outlier column. A whole-row max (no early exit) so the loop
  // vectorizes: the fast projection asks this on every call, an LSTM on every step. NaN is no
  // outlier (the comparison is false), as in find_outliers.
  bool rows_interact(int64_t rows, const float* x, int64_t ldx) const override {
    if (threshold_ <= 0.0f) return false;
    for (int64_t m = 0; m < rows; ++m) {
      const float* xr = x + m * ldx;
      float row_max = 0.0f;
#pragma omp simd reduction(max : row_max)
      for (int64_t k = 0; k < K_; ++k) row_max = std::max(row_max, std::fabs(xr[k]));
      if (row_max >= threshold_) return true;
    }
    return false;
  }

  // Rejects NaN / ±inf before run() converts anything to int8 (undefined for those values).
  Status run_checked(int64_t rows, const float* x, int64_t ldx, const void* weight,
                     const void* bias, float* y, int64_t ldy, void* workspace,
                     RowNumbering numbering) const override {
    QRT_RETURN_IF_ERROR(check_finite_activations(node_label_, ir::Precision::kInt8Dynamic, input_,
                                                 x, rows, ldx, K_, numbering));
    run(rows, x, ldx, weight, bias, y, ldy, workspace);
    return Status::ok();
  }

  std::size_t workspace_bytes(int64_t max_rows) const override {
    WorkspaceCarver carver;
    carve(carver, max_rows);
    return carver.used();
  }

  void run(int64_t rows, const float* x, int64_t ldx, const void* weight, const void* bias,
           float* y, int64_t ldy, void* workspace) const override {
    WorkspaceCarver carver(workspace);
    const Slices ws = carve(carver, rows);
    const auto* qw = static_cast<const int8_t*>(weight);
    const auto* b = static_cast<const float*>(bias);

    const int64_t n_outliers = threshold_ > 0.0f ? find_outliers(rows, x, ldx, ws) : 0;
    for (int64_t m = 0; m < rows; ++m) {
      const float* xr = x + m * ldx;
      int8_t* qr = ws.qx + m * K_;
      ws.row_scale[m] = n_outliers == 0 ? quantize_row_symmetric(xr, K_, qr)
                                        : quantize_row_without_outliers(xr, ws.is_outlier, qr);
    }
    gemm_s8s8_s32(ws.qx, static_cast<std::size_t>(K_), qw, static_cast<std::size_t>(K_), ws.acc,
                  static_cast<std::size_t>(N_), static_cast<std::size_t>(rows),
                  static_cast<std::size_t>(N_), static_cast<std::size_t>(K_));

    for (int64_t m = 0; m < rows; ++m) {
      const float* xr = x + m * ldx;
      for (int64_t n = 0; n < N_; ++n) {
        const float s_w = scales_[static_cast<std::size_t>(n)];
        float v = ws.row_scale[m] * s_w * static_cast<float>(ws.acc[m * N_ + n]);
        float outlier_part = 0.0f;
        for (int64_t i = 0; i < n_outliers; ++i) {
          const int32_t k = ws.outliers[i];
          outlier_part += xr[k] * (s_w * static_cast<float>(qw[n * K_ + k]));
        }
        v += outlier_part;
        y[m * ldy + n] = v + (b != nullptr ? b[n] : 0.0f);
      }
    }
  }

 private:
  struct Slices {
    int8_t* qx;           // [rows, K] activation codes
    float* row_scale;     // [rows] s_x
    int32_t* acc;         // [rows, N] int32 accumulators
    uint8_t* is_outlier;  // [K] 1 for an outlier column
    int32_t* outliers;    // [K] indices of the outlier columns
  };

  Slices carve(WorkspaceCarver& c, int64_t rows) const {
    Slices s{};
    s.qx = c.take<int8_t>(rows * K_);
    s.row_scale = c.take<float>(rows);
    s.acc = c.take<int32_t>(rows * N_);
    s.is_outlier = c.take<uint8_t>(K_);
    s.outliers = c.take<int32_t>(K_);
    return s;
  }

  // Marks the columns where any row reaches the threshold; returns how many there are.
  int64_t find_outliers(int64_t rows, const float* x, int64_t ldx, const Slices& ws) const {
    std::fill(ws.is_outlier, ws.is_outlier + K_, uint8_t{0});
    for (int64_t m = 0; m < rows; ++m)
      for (int64_t k = 0; k < K_; ++k)
        if (std::fabs(x[m * ldx + k]) >= threshold_) ws.is_outlier[k] = 1;
    int64_t count = 0;
    for (int64_t k = 0; k < K_; ++k)
      if (ws.is_outlier[k]) ws.outliers[count++] = static_cast<int32_t>(k);
    return count;
  }

  // quantize_row_symmetric over the non-outlier columns; outlier columns get code 0.
  float quantize_row_without_outliers(const float* x, const uint8_t* is_outlier, int8_t* q) const {
    float max_abs = 0.0f;
    for (int64_t k = 0; k < K_; ++k)
      if (!is_outlier[k]) max_abs = std::max(max_abs, std::fabs(x[k]));
    const float s = symmetric_row_scale(max_abs);
    for (int64_t k = 0; k < K_; ++k)
      q[k] = is_outlier[k]
                 ? int8_t{0}
                 : static_cast<int8_t>(std::clamp(std::nearbyint(x[k] / s), -kInt8Max, kInt8Max));
    return s;
  }

  int64_t N_, K_;
  std::vector<float> scales_;
  float threshold_;
  std::string node_label_, input_;
};

}  // namespace

Result<std::unique_ptr<Projection>> make_int8_dynamic_projection(const ProjectionSpec& spec) {
  QRT_ASSIGN_OR_RETURN(std::vector<float> scales, int8_weight_scales(spec));
  if (!(spec.outlier_threshold >= 0.0f) || !std::isfinite(spec.outlier_threshold))
    return node_error(*spec.node, "outlier threshold " + std::to_string(spec.outlier_threshold) +
                                      " must be finite and >= 0 (0 turns the decomposition off)");
  return std::unique_ptr<Projection>(std::make_unique<Int8DynamicProjection>(
      spec.N, spec.K, std::move(scales), spec.outlier_threshold, ir::node_label(*spec.node),
      spec.input));
}

}  // namespace qrt::ops::quantized
