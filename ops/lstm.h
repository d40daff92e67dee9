// CPU kernels for LSTM (ir/ops.def): PyTorch nn.LSTM, batch_first, gate order i, f, g, o.
//
// The recurrence (gate nonlinearities, cell and hidden state, layer stacking) is written once in
// LstmKernelBase; the two gate projections of each layer (x_t·W_ihᵀ + b_ih and h_{t-1}·W_hhᵀ +
// b_hh) are a pluggable step, so the f32 reference kernel and the quantized kernels
// (ops/quantized/) share everything but the matrix products.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "ops/row_numbering.h"
#include "runtime/kernel.h"

namespace qrt::ops {

std::unique_ptr<runtime::Kernel> make_lstm_kernel();

// out[r·cols + k] = x[r·ldx + k] quantized and dequantized as the int8-static LSTM quantizes a
// hidden state (ops/quantized: scale 1/127, codes clamped to ±127, round half to even), for
// r < rows, k < cols: what the f32 forward and backward give the projections under
// ir::LstmAttrs::hidden_fake_quant. NaN stays NaN (the f32 kernel does not check its data).
void lstm_hidden_fake_quant(int64_t rows, int64_t cols, const float* x, int64_t ldx, float* out);

// Inputs: x, h0?, c0?, then per layer w_ih [4H, In_l], w_hh [4H, H], b_ih? [4H], b_hh? [4H].
inline constexpr std::size_t kLstmFirstLayerInput = 3;
inline constexpr std::size_t kLstmInputsPerLayer = 4;
// The input projection runs over chunks of this many time steps, just ahead of the recurrence
// that consumes them, so the kernel holds [B, 32, 4H] gate projections instead of [B, T, 4H]
// (and a quantized projection its codes and int32 sums for B·32 rows, not B·T).
inline constexpr int64_t kLstmStepsPerChunk = 32;

class LstmKernelBase : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) final;
  std::size_t workspace_bytes() const final;
  Status run(const runtime::RunContext& ctx) final;

 protected:
  enum class Matrix { kInput, kHidden };  // W_ih (with b_ih) or W_hh (with b_hh)
  struct Dims {
    int64_t H = 0, L = 0, B = 0, T = 0, C = 0;
    int64_t S = 0;  // time steps per input-projection chunk: min(T, kLstmStepsPerChunk)
  };

  // Checks the dtypes (and precision) of the node's inputs and outputs; the base then checks the
  // shapes. The input/output counts are already checked.
  virtual Status check_types(const runtime::PrepareContext& ctx) = 0;
  // True when projecting these `rows` input rows of `layer` in one call could give other results
  // than projecting each time step's B rows on its own, which is what the LSTM defines (LLM.int8()
  // picks outlier columns over the rows of a call; docs/quantization.md §3). The base then
  // projects that chunk step by step.
  virtual bool rows_interact(int64_t /*layer*/, int64_t /*rows*/, const float* /*x*/,
                             int64_t /*ldx*/) const {
    return false;
  }
  // Prepares the projection of `matrix` in `layer` (W [4H, in], the bias input may be absent);
  // `what` names the weight in messages ("w_ih of layer 0").
  virtual Status prepare_projection(const runtime::PrepareContext& ctx, int64_t layer,
                                    Matrix matrix, int64_t in, const std::string& what) = 0;
  // Scratch bytes the projections need beyond the recurrence's own (after prepare).
  virtual std::size_t projection_workspace_bytes() const = 0;
  // y[r·ldy + n] = Σ_k x[r·ldx + k]·W[n, k] + bias[n] for r < rows, n < 4H, with the layer's
  // `matrix` and its bias (`weight`/`bias` are the run-time input bytes; bias null when absent).
  // Input projections get at most max_input_rows() rows per call, hidden ones B rows (at most as
  // many). Fails only on data a precision cannot encode (NaN / inf reaching an int8 quantizer),
  // naming the row as `numbering` numbers it (rows of [B·T, In] for the input, of [B, H] for the
  // hidden state).
  virtual Status project(int64_t layer, Matrix matrix, int64_t rows, const float* x, int64_t ldx,
                         const void* weight, const void* bias, float* y, int64_t ldy,
                         void* workspace, RowNumbering numbering) = 0;

  const Dims& dims() const { return dims_; }
  // The most rows one input-projection call gets (B·S); valid once the shapes are known, i.e. in
  // prepare_projection.
  int64_t max_input_rows() const;

 private:
  Status project_input_chunk(int64_t layer, int64_t t0, int64_t steps, const float* seq_in,
                             const void* w_ih, const void* b_ih, float* x_proj, float* gathered,
                             void* workspace);
  int64_t gathered_floats() const;

  Dims dims_;
  bool has_h0_ = false, has_c0_ = false;
};

}  // namespace qrt::ops
