// Static int8 projection, fast form: the arithmetic of linear_int8_static.cpp (the reference,
// docs/quantization.md §4) with
//   - the weight packed once in prepare for the VNNI GEMM (packed_int8_weight.h) instead of the
//     unpacked GEMM recomputing the weight's column sums on every call;
//   - rows quantized by quantize_row_fixed_checked (bit-identical codes, AVX-512), which also
//     rejects NaN / ±inf with the reference's error; uint8-range codes enter the s8×s8 GEMM
//     shifted by −128 as in the reference, so the int32 sums are the reference's exactly;
//   - what depends only on the fixed activation parameters computed in prepare: the zero-point
//     fold z·Σ_k qw[n, k] (an exact int32) and s_x·s_w[n] (the reference's first product), so the
//     epilogue (s_x·s_w)·(acc − z·Σ qw) + b is one vectorizable loop giving the reference's bits.
#include <string>
#include <vector>

#include "ir/op_schema.h"
#include "ops/cpu_parallel.h"
#include "ops/int8_gemm.h"
#include "ops/kernel_support.h"
#include "ops/quantized/packed_int8_weight.h"
#include "ops/quantized/projection.h"
#include "ops/quantized/quantized_support.h"

namespace qrt::ops::quantized {

namespace {

constexpr int32_t kUint8Offset = 128;

class FastInt8StaticProjection final : public Projection {
 public:
  FastInt8StaticProjection(const ProjectionSpec& spec, PackedInt8Weight weight)
      : N_(spec.N),
        K_(spec.K),
        activation_(spec.activation),
        offset_(spec.activation.qmin >= 0 ? kUint8Offset : 0),
        packed_(std::move(weight.codes)),
        node_label_(ir::node_label(*spec.node)),
        input_(spec.input) {
    const int8_t* q = spec.weight->data->as<int8_t>().data();
    const std::vector<int32_t> row_sums = int8_weight_row_sums(q, N_, K_);
    const int32_t z = activation_.zero_point - offset_;
    fold_.resize(row_sums.size());
    scale_.resize(row_sums.size());
    for (std::size_t n = 0; n < row_sums.size(); ++n) {
      fold_[n] = z * row_sums[n];
      scale_[n] = activation_.scale * weight.scales[n];
    }
  }

  std::size_t workspace_bytes(int64_t max_rows) const override {
    WorkspaceCarver carver;
    carve(carver, max_rows);
    return carver.used();
  }

  void run(int64_t rows, const float* x, int64_t ldx, const void* weight, const void* bias,
           float* y, int64_t ldy, void* workspace) const override {
    (void)run_checked(rows, x, ldx, weight, bias, y, ldy, workspace, {});
  }

  Status run_checked(int64_t rows, const float* x, int64_t ldx, const void* /*weight*/,
                     const void* bias, float* y, int64_t ldy, void* workspace,
                     RowNumbering numbering) const override {
    WorkspaceCarver carver(workspace);
    const Slices ws = carve(carver, rows);
    for (int64_t m = 0; m < rows; ++m) {
      int64_t bad = 0;
      if (!quantize_row_fixed_checked(x + m * ldx, K_, activation_, offset_, ws.qx + m * K_, &bad))
        return nonfinite_activation_error(node_label_, ir::Precision::kInt8Static, input_,
                                          x[m * ldx + bad], numbering(m), bad);
    }
    gemm_s8s8_s32_packed(ws.qx, static_cast<std::size_t>(K_), packed_, ws.acc,
                         static_cast<std::size_t>(N_), static_cast<std::size_t>(rows),
                         default_cpu_threads());
    const auto* b = static_cast<const float*>(bias);
    const int32_t* fold = fold_.data();
    const float* scale = scale_.data();
    for (int64_t m = 0; m < rows; ++m) {
      const int32_t* acc = ws.acc + m * N_;
      float* yr = y + m * ldy;
#pragma omp simd
      for (int64_t n = 0; n < N_; ++n)
        yr[n] = scale[n] * static_cast<float>(acc[n] - fold[n]) + (b != nullptr ? b[n] : 0.0f);
    }
    return Status::ok();
  }

  std::string describe() const override {
    return std::string("int8 GEMM ") + gemm_s8s8_s32_packed_implementation() +
           ", weights prepacked, fixed activation scale";
  }

 private:
  struct Slices {
    int8_t* qx;    // [rows, K] activation codes (uint8 range shifted by −128)
    int32_t* acc;  // [rows, N] int32 accumulators
  };

  Slices carve(WorkspaceCarver& c, int64_t rows) const {
    Slices s{};
    s.qx = c.take<int8_t>(rows * K_);
    s.acc = c.take<int32_t>(rows * N_);
    return s;
  }

  int64_t N_, K_;
  ActivationQuant activation_;
  int32_t offset_;  // 128 for uint8-range activations, else 0
  PackedInt8Weights packed_;
  std::vector<int32_t> fold_;  // (z_x − offset)·Σ_k qw[n, k]
  std::vector<float> scale_;   // s_x·s_w[n]
  std::string node_label_, input_;
};

}  // namespace

Result<std::unique_ptr<Projection>> make_fast_int8_static_projection(const ProjectionSpec& spec) {
  QRT_ASSIGN_OR_RETURN(PackedInt8Weight weight, pack_int8_weight(spec));
  return std::unique_ptr<Projection>(
      std::make_unique<FastInt8StaticProjection>(spec, std::move(weight)));
}

}  // namespace qrt::ops::quantized
