// NF4 weight-only projection, W4A16 (docs/quantization.md §5, QLoRA): W [N, K] stored as 4-bit
// NormalFloat codes, one absmax per block of `block_size` along K (decoded from double
// quantization in prepare); weights are dequantized in registers, Ŵ[n, k] =
// absmax[block(n, k)]·codebook[code(n, k)], and products accumulated in f32:
//   y[m, n] = Σ_k x[m, k]·Ŵ[n, k] + b[n]
// The product is ops::nf4_gemm_f32 (ops/nf4_gemm.h), which takes dense rows: strided x or y go
// through the workspace.
#include <cstring>
#include <vector>

#include "ir/quant_formats.h"
#include "ir/quantize.h"
#include "ops/kernel_support.h"
#include "ops/nf4_gemm.h"
#include "ops/quantized/projection.h"
#include "ops/quantized/quantized_support.h"

namespace qrt::ops::quantized {

namespace {

class Nf4Projection final : public Projection {
 public:
  Nf4Projection(int64_t N, int64_t K, int64_t block_size, std::vector<float> absmax)
      : N_(N), K_(K), block_size_(block_size), absmax_(std::move(absmax)) {}

  std::size_t workspace_bytes(int64_t max_rows) const override {
    WorkspaceCarver carver;
    carver.take<float>(max_rows * K_);  // dense copy of strided x rows
    carver.take<float>(max_rows * N_);  // dense y when ldy != N
    return carver.used();
  }

  void run(int64_t rows, const float* x, int64_t ldx, const void* weight, const void* bias,
           float* y, int64_t ldy, void* workspace) const override {
    WorkspaceCarver carver(workspace);
    float* x_dense = carver.take<float>(rows * K_);
    float* y_dense = carver.take<float>(rows * N_);
    const float* xin = x;
    if (ldx != K_) {
      for (int64_t m = 0; m < rows; ++m)
        std::memcpy(x_dense + m * K_, x + m * ldx, static_cast<std::size_t>(K_) * sizeof(float));
      xin = x_dense;
    }
    float* yout = ldy == N_ ? y : y_dense;
    nf4_gemm_f32(xin, static_cast<std::size_t>(rows), static_cast<const uint8_t*>(weight),
                 absmax_.data(), static_cast<std::size_t>(N_), static_cast<std::size_t>(K_),
                 static_cast<std::size_t>(block_size_), static_cast<const float*>(bias), yout);
    if (yout != y)
      for (int64_t m = 0; m < rows; ++m)
        std::memcpy(y + m * ldy, y_dense + m * N_, static_cast<std::size_t>(N_) * sizeof(float));
  }

 private:
  int64_t N_, K_, block_size_;
  std::vector<float> absmax_;  // one per block, double quantization already decoded
};

}  // namespace

Result<std::unique_ptr<Projection>> make_nf4_projection(const ProjectionSpec& spec) {
  const ir::QuantParams& q = *spec.weight->quant;
  const std::string label = spec.what + " '" + spec.weight->name + "'";
  if (!ir::is_valid_nf4_block_size(q.block_size) || spec.K % q.block_size != 0)
    return node_error(*spec.node, label + " has nf4 block size " + std::to_string(q.block_size) +
                                      ", expected a power of two in [32, 4096] dividing K = " +
                                      std::to_string(spec.K));
  std::vector<float> absmax = ir::nf4_block_absmax(q);
  const int64_t blocks = spec.N * spec.K / q.block_size;
  if (static_cast<int64_t>(absmax.size()) != blocks)
    return node_error(*spec.node, label + " decodes to " + std::to_string(absmax.size()) +
                                      " block absmax values, expected " + std::to_string(blocks));
  return std::unique_ptr<Projection>(
      std::make_unique<Nf4Projection>(spec.N, spec.K, q.block_size, std::move(absmax)));
}

}  // namespace qrt::ops::quantized
