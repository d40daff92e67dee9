// LSTM, PyTorch nn.LSTM(batch_first=True) semantics. For each layer l and time step t:
//   gates = x_t·W_ihᵀ + b_ih + h_{t-1}·W_hhᵀ + b_hh          [B, 4H], split as i, f, g, o
//   c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g)
//   h_t = σ(o) ⊙ tanh(c_t)
// Layer 0 reads x [B, T, C]; layer l > 0 reads layer l-1's h sequence. Outputs: y [B, T, H] (last
// layer's h_t for every t), h_n and c_n [L, B, H] (each layer's final state). h0/c0 [L, B, H]
// default to zeros; absent biases are zero.
//
// Per layer, the input projection runs over chunks of S time steps (ops/lstm.h), one product of
// B·S rows just ahead of the S recurrence steps that read it; each step then adds one [B, H] x
// [H, 4H] product. y doubles as the inter-layer sequence: a chunk's input projection reads layer
// l-1's h at steps the recurrence of layer l has not overwritten yet (it writes y only at steps
// already projected). The products are LstmKernelBase::project (f32 here, quantized in
// ops/quantized/).
//
// Under LstmAttrs::hidden_fake_quant (QAT), the f32 kernel's projections read h_{t-1} and the
// layer-(l-1) sequence through lstm_hidden_fake_quant, a rounded copy in the projection
// workspace, while y, h_n, c_n and the carried state stay unrounded: the int8-static kernel's
// arithmetic in float.
#include "ops/lstm.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/cpu_parallel.h"
#include "ops/fake_quant.h"
#include "ops/gemm_f32.h"
#include "ops/kernel_support.h"
#include "ops/lstm_cell.h"
#include "ops/quantized/lane_packed_gemm.h"
#include "ops/quantized/projection.h"

namespace qrt::ops {

namespace {

// Workspace slices start on 64-byte boundaries (16 floats).
constexpr int64_t kAlignFloats = 16;

int64_t aligned(int64_t n) {
  return (n + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
}

std::size_t input_index(int64_t layer, std::size_t k) {
  return kLstmFirstLayerInput + kLstmInputsPerLayer * static_cast<std::size_t>(layer) + k;
}

// The f32 kernel: both projections are gemm_xwt_f32 on the f32 weights, read in place. On AVX-512
// CPUs a constant weight is packed by lanes in prepare instead (ops/quantized/lane_packed_gemm.h:
// 16 gates per vector, no horizontal sum per output, which is what a [1, H] x [H, 4H] step at
// batch 1 otherwise spends most of its time on); that holds one more copy of the f32 weights.
class LstmKernel final : public LstmKernelBase {
 protected:
  Status check_types(const runtime::PrepareContext& ctx) override {
    packed_.clear();
    QRT_ASSIGN_OR_RETURN(const ir::LstmAttrs* attrs, node_attrs<ir::LstmAttrs>(ctx.node));
    hidden_fake_quant_ = attrs->hidden_fake_quant;
    const std::size_t n = ctx.node.inputs.size();
    return check_context(ctx, n, n, 3, 1);
  }
  Status prepare_projection(const runtime::PrepareContext& ctx, int64_t layer, Matrix matrix,
                            int64_t in, const std::string&) override {
    const std::size_t k = matrix == Matrix::kInput ? 0 : 1;
    const ir::ValueId id = ctx.node.inputs[input_index(layer, k)];
    const ir::Value& w = ctx.graph.values[static_cast<std::size_t>(id)];
    quantized::LanePackedWeights packed;
    const int64_t N = 4 * dims().H;
    if (quantized::weight_only_gemm_available() && w.is_constant() &&
        w.data->size() >= static_cast<std::size_t>(N * in) * sizeof(float))
      packed = quantized::pack_weights_by_lanes(w.data->data(), quantized::WeightCode::kF32, N, in,
                                                nullptr);
    packed_.push_back(std::move(packed));  // order: layer 0 input, layer 0 hidden, layer 1 ...
    return Status::ok();
  }
  // The rounded copy of the largest hidden-state input: a chunk of layer l > 0's sequence (never
  // fewer rows than h_{t-1}'s B).
  std::size_t projection_workspace_bytes() const override {
    if (!hidden_fake_quant_) return 0;
    return static_cast<std::size_t>(max_input_rows() * dims().H) * sizeof(float);
  }
  Status project(int64_t layer, Matrix matrix, int64_t rows, const float* x, int64_t ldx,
                 const void* weight, const void* bias, float* y, int64_t ldy, void* workspace,
                 RowNumbering /*numbering*/) override {
    if (hidden_fake_quant_ && (matrix == Matrix::kHidden || layer > 0)) {
      auto* rounded = static_cast<float*>(workspace);
      lstm_hidden_fake_quant(rows, dims().H, x, ldx, rounded);
      x = rounded;
      ldx = dims().H;
    }
    const std::size_t i = 2 * static_cast<std::size_t>(layer) + (matrix == Matrix::kInput ? 0 : 1);
    if (!packed_[i].bytes.empty()) {
      quantized::lane_packed_gemm(packed_[i], x, ldx, rows, static_cast<const float*>(bias), y, ldy,
                                  quantized::OutputRounding::kNone, default_cpu_threads());
      return Status::ok();
    }
    const int64_t in = matrix == Matrix::kInput && layer == 0 ? dims().C : dims().H;
    gemm_xwt_f32(rows, 4 * dims().H, in, x, ldx, static_cast<const float*>(weight),
                 static_cast<const float*>(bias), y, ldy, default_cpu_threads());
    return Status::ok();
  }
  std::string describe() const override {
    for (const auto& p : packed_)
      if (!p.bytes.empty()) return "avx512, f32 weights packed by lanes";
    return {};
  }

 private:
  std::vector<quantized::LanePackedWeights> packed_;
  bool hidden_fake_quant_ = false;
};

}  // namespace

void lstm_hidden_fake_quant(int64_t rows, int64_t cols, const float* x, int64_t ldx, float* out) {
  // The int8-static LSTM's hidden-state parameters are ActivationQuant's defaults.
  constexpr quantized::ActivationQuant kHidden;
  const ir::FakeQuantRange range{kHidden.qmin, kHidden.qmax};
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < cols; ++k) {
      const float h = x[r * ldx + k];
      out[r * cols + k] =
          std::isnan(h) ? h : fake_quant_value(h, kHidden.scale, kHidden.zero_point, range);
    }
}

Status LstmKernelBase::prepare(const runtime::PrepareContext& ctx) {
  const ir::Node& node = ctx.node;
  QRT_ASSIGN_OR_RETURN(const ir::LstmAttrs* attrs, node_attrs<ir::LstmAttrs>(node));
  if (attrs->hidden_size <= 0)
    return node_error(node, "hidden_size " + std::to_string(attrs->hidden_size) + " must be > 0");
  if (attrs->num_layers <= 0)
    return node_error(node, "num_layers " + std::to_string(attrs->num_layers) + " must be > 0");
  Dims d;
  d.H = attrs->hidden_size;
  d.L = attrs->num_layers;
  const std::size_t n_inputs = input_index(d.L, 0);
  if (node.inputs.size() != n_inputs || node.outputs.size() != 3)
    return node_error(node, "has " + std::to_string(node.inputs.size()) + " inputs and " +
                                std::to_string(node.outputs.size()) + " outputs, expected " +
                                std::to_string(n_inputs) + " and 3 for " + std::to_string(d.L) +
                                " layer(s)");
  if (ctx.input_types.size() != n_inputs || ctx.output_types.size() != 3)
    return node_error(node, "prepare context does not describe the node's inputs and outputs");
  QRT_RETURN_IF_ERROR(check_types(ctx));
  if (ctx.input_types[0] == nullptr) return node_error(node, "required input x is absent");
  for (const ir::TensorType* t : ctx.output_types)
    if (t == nullptr) return node_error(node, "an output has no type");

  const ir::Shape& x = ctx.input_types[0]->shape;
  if (x.size() != 3)
    return node_error(node, "input x has shape " + ir::shape_to_string(x) + ", expected [B, T, C]");
  d.B = x[0];
  d.T = x[1];
  d.C = x[2];
  d.S = std::min(d.T, kLstmStepsPerChunk);
  dims_ = d;
  const ir::Shape state = {d.L, d.B, d.H};
  has_h0_ = ctx.input_types[1] != nullptr;
  has_c0_ = ctx.input_types[2] != nullptr;
  if (has_h0_) QRT_RETURN_IF_ERROR(expect_shape(node, "h0", ctx.input_types[1]->shape, state));
  if (has_c0_) QRT_RETURN_IF_ERROR(expect_shape(node, "c0", ctx.input_types[2]->shape, state));

  for (int64_t l = 0; l < d.L; ++l) {
    const std::string layer = " of layer " + std::to_string(l);
    const ir::TensorType* w_ih = ctx.input_types[input_index(l, 0)];
    const ir::TensorType* w_hh = ctx.input_types[input_index(l, 1)];
    if (w_ih == nullptr || w_hh == nullptr)
      return node_error(node, "weights" + layer + " are absent");
    const int64_t in = l == 0 ? d.C : d.H;
    QRT_RETURN_IF_ERROR(expect_shape(node, "w_ih" + layer, w_ih->shape, {4 * d.H, in}));
    QRT_RETURN_IF_ERROR(expect_shape(node, "w_hh" + layer, w_hh->shape, {4 * d.H, d.H}));
    for (std::size_t k = 2; k < kLstmInputsPerLayer; ++k) {
      const ir::TensorType* b = ctx.input_types[input_index(l, k)];
      if (b != nullptr)
        QRT_RETURN_IF_ERROR(
            expect_shape(node, (k == 2 ? "b_ih" : "b_hh") + layer, b->shape, {4 * d.H}));
    }
    QRT_RETURN_IF_ERROR(prepare_projection(ctx, l, Matrix::kInput, in, "w_ih" + layer));
    QRT_RETURN_IF_ERROR(prepare_projection(ctx, l, Matrix::kHidden, d.H, "w_hh" + layer));
  }
  QRT_RETURN_IF_ERROR(expect_shape(node, "output y", ctx.output_types[0]->shape, {d.B, d.T, d.H}));
  QRT_RETURN_IF_ERROR(expect_shape(node, "output h_n", ctx.output_types[1]->shape, state));
  QRT_RETURN_IF_ERROR(expect_shape(node, "output c_n", ctx.output_types[2]->shape, state));
  return Status::ok();
}

int64_t LstmKernelBase::max_input_rows() const {
  return dims_.B * dims_.S;
}

// The chunk's input rows gathered from B places (project_input_chunk), when there are B > 1 and
// more than one chunk.
int64_t LstmKernelBase::gathered_floats() const {
  const Dims& d = dims_;
  return d.B > 1 && d.S < d.T ? d.B * d.S * std::max(d.C, d.H) : 0;
}

// [B, S, 4H] input projections, the gathered input rows, [B, 4H] recurrent projection, [B, H]
// cell state, [B, H] zeros (the initial h when h0 is absent), then the projections' own scratch.
std::size_t LstmKernelBase::workspace_bytes() const {
  const Dims& d = dims_;
  const int64_t floats = aligned(d.B * d.S * 4 * d.H) + aligned(gathered_floats()) +
                         aligned(d.B * 4 * d.H) + aligned(d.B * d.H) + aligned(d.B * d.H);
  return static_cast<std::size_t>(floats) * sizeof(float) + projection_workspace_bytes();
}

Status LstmKernelBase::run(const runtime::RunContext& ctx) {
  const Dims& d = dims_;
  float* ws = static_cast<float*>(ctx.workspace);
  float* x_proj = ws;
  float* gathered = x_proj + aligned(d.B * d.S * 4 * d.H);
  float* h_proj = gathered + aligned(gathered_floats());
  float* c = h_proj + aligned(d.B * 4 * d.H);
  float* zeros = c + aligned(d.B * d.H);
  void* projection_ws = zeros + aligned(d.B * d.H);
  std::fill(zeros, zeros + d.B * d.H, 0.0f);

  float* y = ctx.outputs[0].as<float>();
  float* h_n = ctx.outputs[1].as<float>();  // outputs nobody reads may be left unbound
  float* c_n = ctx.outputs[2].as<float>();
  const int64_t G = 4 * d.H;  // gate width
  const int64_t H = d.H;

  for (int64_t l = 0; l < d.L; ++l) {
    const void* w_ih = ctx.inputs[input_index(l, 0)].data;
    const void* w_hh = ctx.inputs[input_index(l, 1)].data;
    const void* b_ih = ctx.inputs[input_index(l, 2)].data;  // nullptr when absent
    const void* b_hh = ctx.inputs[input_index(l, 3)].data;
    const float* seq_in = l == 0 ? ctx.inputs[0].as<float>() : y;

    const int64_t state_offset = l * d.B * H;
    if (has_c0_) {
      std::memcpy(c, ctx.inputs[2].as<float>() + state_offset, d.B * H * sizeof(float));
    } else {
      std::fill(c, c + d.B * H, 0.0f);
    }
    // h_{t-1} rows: h0[l] (or zeros) at t = 0, then y[:, t-1] (row stride T·H).
    const float* h_prev = has_h0_ ? ctx.inputs[1].as<float>() + state_offset : zeros;
    int64_t h_stride = H;

    for (int64_t t = 0; t < d.T; ++t) {
      const int64_t t0 = t / d.S * d.S;  // first step of t's chunk
      const int64_t steps = std::min(d.S, d.T - t0);
      if (t == t0)
        QRT_RETURN_IF_ERROR(
            project_input_chunk(l, t0, steps, seq_in, w_ih, b_ih, x_proj, gathered, projection_ws));
      QRT_RETURN_IF_ERROR(project(l, Matrix::kHidden, d.B, h_prev, h_stride, w_hh, b_hh, h_proj, G,
                                  projection_ws, RowNumbering{}));
      for (int64_t b = 0; b < d.B; ++b) {
        const float* gx = x_proj + (b * steps + t - t0) * G;
        const float* gh = h_proj + b * G;
        float* cb = c + b * H;
        float* hb = y + (b * d.T + t) * H;
        lstm_cell_update(gx, gh, cb, hb, H);
      }
      h_prev = y + t * H;
      h_stride = d.T * H;
    }

    if (h_n != nullptr)
      for (int64_t b = 0; b < d.B; ++b)
        std::memcpy(h_n + state_offset + b * H, h_prev + b * h_stride, H * sizeof(float));
    if (c_n != nullptr) std::memcpy(c_n + state_offset, c, d.B * H * sizeof(float));
  }
  return Status::ok();
}

// x_proj[b, s] = seq_in[b, t0 + s]·W_ihᵀ + b_ih for s < steps (x_proj is [B, steps, 4H]) in one
// call of B·steps rows: with B > 1 and more than one chunk those rows lie in B places of seq_in and
// are gathered into `gathered` first (one product per chunk instead of B short ones, each paying
// the GEMM's thread start). Step by step (the B rows of one step per call, read in place) where
// rows_interact says one call could differ from that.
Status LstmKernelBase::project_input_chunk(int64_t layer, int64_t t0, int64_t steps,
                                           const float* seq_in, const void* w_ih, const void* b_ih,
                                           float* x_proj, float* gathered, void* workspace) {
  const Dims& d = dims_;
  const int64_t in = layer == 0 ? d.C : d.H;
  const int64_t G = 4 * d.H;
  const float* x = seq_in + t0 * in;  // contiguous when B = 1 or the chunk is the sequence
  if (d.B > 1 && steps < d.T) {
    for (int64_t b = 0; b < d.B; ++b)
      std::memcpy(gathered + b * steps * in, seq_in + (b * d.T + t0) * in,
                  static_cast<std::size_t>(steps * in) * sizeof(float));
    x = gathered;
  }
  if (!rows_interact(layer, d.B * steps, x, in))
    return project(layer, Matrix::kInput, d.B * steps, x, in, w_ih, b_ih, x_proj, G, workspace,
                   RowNumbering{t0, steps, d.T});
  for (int64_t s = 0; s < steps; ++s)
    QRT_RETURN_IF_ERROR(project(layer, Matrix::kInput, d.B, seq_in + (t0 + s) * in, d.T * in, w_ih,
                                b_ih, x_proj + s * G, steps * G, workspace,
                                RowNumbering{t0 + s, 1, d.T}));
  return Status::ok();
}

std::unique_ptr<runtime::Kernel> make_lstm_kernel() {
  return std::make_unique<LstmKernel>();
}

}  // namespace qrt::ops
