// Dynamic int8 projection, fast form: the arithmetic of linear_int8_dynamic.cpp (the reference,
// docs/quantization.md §3) with
//   - the weight packed once in prepare for the VNNI GEMM (packed_int8_weight.h: 4 k-values per
//     int32 lane, the 128·Σ_k w correction precomputed) instead of recomputing the column sums on
//     every call; at batch 1 the product is a GEMV over weights that stay in L1/L2 across LSTM
//     steps;
//   - rows quantized by quantize_row_symmetric_checked (bit-identical codes and scales, AVX-512)
//     which also rejects NaN / ±inf;
//   - the epilogue y = (s_x·s_w)·acc + b written as one vectorizable loop, in the reference's
//     operation order, so outputs are bit-identical to the reference kernel's.
// With the LLM.int8() threshold on, a call whose activations hold an outlier column (the
// reference's rows_interact) runs the reference projection (the decomposition is rare and its float
// part dominates anyway).
#include <string>

#include "ir/op_schema.h"
#include "ops/cpu_parallel.h"
#include "ops/int8_gemm.h"
#include "ops/kernel_support.h"
#include "ops/quantized/packed_int8_weight.h"
#include "ops/quantized/projection.h"
#include "ops/quantized/quantized_support.h"

namespace qrt::ops::quantized {

namespace {

class FastInt8DynamicProjection final : public Projection {
 public:
  FastInt8DynamicProjection(const ProjectionSpec& spec, PackedInt8Weight weight,
                            std::unique_ptr<Projection> reference)
      : N_(spec.N),
        K_(spec.K),
        weight_(std::move(weight)),
        reference_(std::move(reference)),
        node_label_(ir::node_label(*spec.node)),
        input_(spec.input) {}

  std::size_t workspace_bytes(int64_t max_rows) const override {
    WorkspaceCarver carver;
    carve(carver, max_rows);
    return std::max(carver.used(), reference_->workspace_bytes(max_rows));
  }

  void run(int64_t rows, const float* x, int64_t ldx, const void* weight, const void* bias,
           float* y, int64_t ldy, void* workspace) const override {
    (void)run_checked(rows, x, ldx, weight, bias, y, ldy, workspace, {});
  }

  Status run_checked(int64_t rows, const float* x, int64_t ldx, const void* weight,
                     const void* bias, float* y, int64_t ldy, void* workspace,
                     RowNumbering numbering) const override {
    if (reference_->rows_interact(rows, x, ldx))
      return reference_->run_checked(rows, x, ldx, weight, bias, y, ldy, workspace, numbering);
    WorkspaceCarver carver(workspace);
    const Slices ws = carve(carver, rows);
    for (int64_t m = 0; m < rows; ++m) {
      int64_t bad = 0;
      if (!quantize_row_symmetric_checked(x + m * ldx, K_, ws.qx + m * K_, ws.row_scale + m, &bad))
        return nonfinite_activation_error(node_label_, ir::Precision::kInt8Dynamic, input_,
                                          x[m * ldx + bad], numbering(m), bad);
    }
    gemm_s8s8_s32_packed(ws.qx, static_cast<std::size_t>(K_), weight_.codes, ws.acc,
                         static_cast<std::size_t>(N_), static_cast<std::size_t>(rows),
                         default_cpu_threads());
    const auto* b = static_cast<const float*>(bias);
    const float* s_w = weight_.scales.data();
    for (int64_t m = 0; m < rows; ++m) {
      const float s_x = ws.row_scale[m];
      const int32_t* acc = ws.acc + m * N_;
      float* yr = y + m * ldy;
      // The reference's order: (s_x·s_w)·acc, plus the (empty) outlier part, plus the bias.
#pragma omp simd
      for (int64_t n = 0; n < N_; ++n) {
        float v = s_x * s_w[n] * static_cast<float>(acc[n]);
        v += 0.0f;
        yr[n] = v + (b != nullptr ? b[n] : 0.0f);
      }
    }
    return Status::ok();
  }

  bool rows_interact(int64_t rows, const float* x, int64_t ldx) const override {
    return reference_->rows_interact(rows, x, ldx);
  }

  std::string describe() const override {
    return std::string("int8 GEMM ") + gemm_s8s8_s32_packed_implementation() +
           ", weights prepacked";
  }

 private:
  struct Slices {
    int8_t* qx;        // [rows, K] activation codes
    float* row_scale;  // [rows] s_x
    int32_t* acc;      // [rows, N] int32 accumulators
  };

  Slices carve(WorkspaceCarver& c, int64_t rows) const {
    Slices s{};
    s.qx = c.take<int8_t>(rows * K_);
    s.row_scale = c.take<float>(rows);
    s.acc = c.take<int32_t>(rows * N_);
    return s;
  }

  int64_t N_, K_;
  PackedInt8Weight weight_;
  std::unique_ptr<Projection> reference_;  // runs calls with outlier columns
  std::string node_label_, input_;
};

}  // namespace

Result<std::unique_ptr<Projection>> make_fast_int8_dynamic_projection(const ProjectionSpec& spec) {
  QRT_ASSIGN_OR_RETURN(std::unique_ptr<Projection> reference, make_int8_dynamic_projection(spec));
  QRT_ASSIGN_OR_RETURN(PackedInt8Weight weight, pack_int8_weight(spec));
  return std::unique_ptr<Projection>(
      std::make_unique<FastInt8DynamicProjection>(spec, std::move(weight), std::move(reference)));
}

}  // namespace qrt::ops::quantized
