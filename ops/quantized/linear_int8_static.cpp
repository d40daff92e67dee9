// Static int8 projection, W8A8 with calibrated activation scales (docs/quantization.md §4): W int8
// symmetric per output channel; x quantized with its calibrated per-tensor scale s_x and zero point
// z_x; int32 accumulation with the zero point folded through the weight row sums precomputed in
// prepare; the output is float:
//   qx = clamp(round(x / s_x) + z_x, qmin, qmax)
//   acc'[m, n] = Σ_k qx[m, k]·qw[n, k] − z_x·Σ_k qw[n, k]
//   y[m, n] = s_x·s_w[n]·acc'[m, n] + b[n]
// Affine activations use the uint8 range; their codes are stored as qx − 128 (and z_x − 128) so
// the s8×s8 GEMM applies: Σ (qx − z_x)·qw is unchanged by the shift.
#include <string>
#include <vector>

#include "ir/op_schema.h"
#include "ops/int8_gemm.h"
#include "ops/kernel_support.h"
#include "ops/quantized/projection.h"
#include "ops/quantized/quantized_support.h"

namespace qrt::ops::quantized {

namespace {

constexpr int32_t kUint8Offset = 128;

class Int8StaticProjection final : public Projection {
 public:
  Int8StaticProjection(const ProjectionSpec& spec, std::vector<float> scales,
                       std::vector<int32_t> row_sums)
      : N_(spec.N),
        K_(spec.K),
        scales_(std::move(scales)),
        row_sums_(std::move(row_sums)),
        activation_(spec.activation),
        offset_(spec.activation.qmin >= 0 ? kUint8Offset : 0),
        node_label_(ir::node_label(*spec.node)),
        input_(spec.input) {}

  // Converting NaN or ±inf to a code is undefined: such an input fails, naming row and column.
  Status run_checked(int64_t rows, const float* x, int64_t ldx, const void* weight,
                     const void* bias, float* y, int64_t ldy, void* workspace,
                     RowNumbering numbering) const override {
    QRT_RETURN_IF_ERROR(check_finite_activations(node_label_, ir::Precision::kInt8Static, input_, x,
                                                 rows, ldx, K_, numbering));
    run(rows, x, ldx, weight, bias, y, ldy, workspace);
    return Status::ok();
  }

  std::size_t workspace_bytes(int64_t max_rows) const override {
    WorkspaceCarver carver;
    carver.take<int8_t>(max_rows * K_);
    carver.take<int32_t>(max_rows * N_);
    return carver.used();
  }

  void run(int64_t rows, const float* x, int64_t ldx, const void* weight, const void* bias,
           float* y, int64_t ldy, void* workspace) const override {
    WorkspaceCarver carver(workspace);
    int8_t* qx = carver.take<int8_t>(rows * K_);
    int32_t* acc = carver.take<int32_t>(rows * N_);
    const auto* qw = static_cast<const int8_t*>(weight);
    const auto* b = static_cast<const float*>(bias);
    for (int64_t m = 0; m < rows; ++m)
      quantize_row_fixed(x + m * ldx, K_, activation_, offset_, qx + m * K_);
    gemm_s8s8_s32(qx, static_cast<std::size_t>(K_), qw, static_cast<std::size_t>(K_), acc,
                  static_cast<std::size_t>(N_), static_cast<std::size_t>(rows),
                  static_cast<std::size_t>(N_), static_cast<std::size_t>(K_));
    const int32_t z = activation_.zero_point - offset_;
    for (int64_t m = 0; m < rows; ++m)
      for (int64_t n = 0; n < N_; ++n) {
        const int32_t folded = acc[m * N_ + n] - z * row_sums_[static_cast<std::size_t>(n)];
        y[m * ldy + n] =
            activation_.scale * scales_[static_cast<std::size_t>(n)] * static_cast<float>(folded) +
            (b != nullptr ? b[n] : 0.0f);
      }
  }

 private:
  int64_t N_, K_;
  std::vector<float> scales_;
  std::vector<int32_t> row_sums_;  // Σ_k qw[n, k]
  ActivationQuant activation_;
  int32_t offset_;  // 128 for uint8-range activations, else 0
  std::string node_label_, input_;
};

}  // namespace

Result<std::unique_ptr<Projection>> make_int8_static_projection(const ProjectionSpec& spec) {
  QRT_ASSIGN_OR_RETURN(std::vector<float> scales, int8_weight_scales(spec));
  QRT_RETURN_IF_ERROR(require_constant(*spec.node, spec.what, *spec.weight));
  const auto codes = spec.weight->data->as<int8_t>();
  if (static_cast<int64_t>(codes.size()) < spec.N * spec.K)
    return node_error(*spec.node, spec.what + " '" + spec.weight->name + "' holds " +
                                      std::to_string(codes.size()) + " bytes, expected " +
                                      std::to_string(spec.N * spec.K));
  return std::unique_ptr<Projection>(std::make_unique<Int8StaticProjection>(
      spec, std::move(scales), int8_weight_row_sums(codes.data(), spec.N, spec.K)));
}

}  // namespace qrt::ops::quantized
