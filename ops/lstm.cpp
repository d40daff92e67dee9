// LSTM, PyTorch nn.LSTM(batch_first=True) semantics. For each layer l and time step t:
//   gates = x_t·W_ihᵀ + b_ih + h_{t-1}·W_hhᵀ + b_hh          [B, 4H], split as i, f, g, o
//   c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g)
//   h_t = σ(o) ⊙ tanh(c_t)
// Layer 0 reads x [B, T, C]; layer l > 0 reads layer l-1's h sequence. Outputs: y [B, T, H] (last
// layer's h_t for every t), h_n and c_n [L, B, H] (each layer's final state). h0/c0 [L, B, H]
// default to zeros; absent biases are zero.
//
// Inputs: x, h0?, c0?, then per layer w_ih [4H, In_l], w_hh [4H, H], b_ih? [4H], b_hh? [4H].
//
// Per layer, the input projection of all B·T steps is one GEMM before the recurrence; each step
// then adds one [B, H] x [H, 4H] product. y doubles as the inter-layer sequence: layer l's input
// projection has consumed all of layer l-1's h sequence before layer l's recurrence overwrites it.
#include "ops/lstm.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/activation_math.h"
#include "ops/gemm_f32.h"
#include "ops/kernel_support.h"

namespace qrt::ops {

namespace {

constexpr std::size_t kFirstLayerInput = 3;  // x, h0, c0 come first
constexpr std::size_t kInputsPerLayer = 4;   // w_ih, w_hh, b_ih, b_hh
// Workspace slices start on 64-byte boundaries (16 floats).
constexpr int64_t kAlignFloats = 16;

int64_t aligned(int64_t n) {
  return (n + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
}

class LstmKernel final : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    QRT_ASSIGN_OR_RETURN(const ir::LstmAttrs* attrs, node_attrs<ir::LstmAttrs>(node));
    if (attrs->hidden_size <= 0)
      return node_error(node, "hidden_size " + std::to_string(attrs->hidden_size) + " must be > 0");
    if (attrs->num_layers <= 0)
      return node_error(node, "num_layers " + std::to_string(attrs->num_layers) + " must be > 0");
    H_ = attrs->hidden_size;
    L_ = attrs->num_layers;
    const std::size_t n_inputs = kFirstLayerInput + kInputsPerLayer * static_cast<std::size_t>(L_);
    QRT_RETURN_IF_ERROR(check_context(ctx, n_inputs, n_inputs, 3, 1));

    const ir::Shape& x = ctx.input_types[0]->shape;
    if (x.size() != 3)
      return node_error(node,
                        "input x has shape " + ir::shape_to_string(x) + ", expected [B, T, C]");
    B_ = x[0];
    T_ = x[1];
    C_ = x[2];
    const ir::Shape state = {L_, B_, H_};
    has_h0_ = ctx.input_types[1] != nullptr;
    has_c0_ = ctx.input_types[2] != nullptr;
    if (has_h0_) QRT_RETURN_IF_ERROR(expect_shape(node, "h0", ctx.input_types[1]->shape, state));
    if (has_c0_) QRT_RETURN_IF_ERROR(expect_shape(node, "c0", ctx.input_types[2]->shape, state));

    for (int64_t l = 0; l < L_; ++l) {
      const std::size_t base = kFirstLayerInput + kInputsPerLayer * static_cast<std::size_t>(l);
      const std::string layer = " of layer " + std::to_string(l);
      const ir::TensorType* w_ih = ctx.input_types[base];
      const ir::TensorType* w_hh = ctx.input_types[base + 1];
      if (w_ih == nullptr || w_hh == nullptr)
        return node_error(node, "weights" + layer + " are absent");
      const int64_t in = l == 0 ? C_ : H_;
      QRT_RETURN_IF_ERROR(expect_shape(node, "w_ih" + layer, w_ih->shape, {4 * H_, in}));
      QRT_RETURN_IF_ERROR(expect_shape(node, "w_hh" + layer, w_hh->shape, {4 * H_, H_}));
      for (std::size_t k = 2; k < kInputsPerLayer; ++k) {
        const ir::TensorType* b = ctx.input_types[base + k];
        if (b != nullptr)
          QRT_RETURN_IF_ERROR(
              expect_shape(node, (k == 2 ? "b_ih" : "b_hh") + layer, b->shape, {4 * H_}));
      }
    }
    QRT_RETURN_IF_ERROR(expect_shape(node, "output y", ctx.output_types[0]->shape, {B_, T_, H_}));
    QRT_RETURN_IF_ERROR(expect_shape(node, "output h_n", ctx.output_types[1]->shape, state));
    QRT_RETURN_IF_ERROR(expect_shape(node, "output c_n", ctx.output_types[2]->shape, state));
    return Status::ok();
  }

  // [B·T, 4H] input projections, [B, 4H] recurrent projection, [B, H] cell state, [B, H] zeros
  // (the initial h when h0 is absent).
  std::size_t workspace_bytes() const override {
    const int64_t floats =
        aligned(B_ * T_ * 4 * H_) + aligned(B_ * 4 * H_) + aligned(B_ * H_) + aligned(B_ * H_);
    return static_cast<std::size_t>(floats) * sizeof(float);
  }

  Status run(const runtime::RunContext& ctx) override {
    float* ws = static_cast<float*>(ctx.workspace);
    float* x_proj = ws;
    float* h_proj = x_proj + aligned(B_ * T_ * 4 * H_);
    float* c = h_proj + aligned(B_ * 4 * H_);
    float* zeros = c + aligned(B_ * H_);
    std::fill(zeros, zeros + B_ * H_, 0.0f);

    float* y = ctx.outputs[0].as<float>();
    float* h_n = ctx.outputs[1].as<float>();  // outputs nobody reads may be left unbound
    float* c_n = ctx.outputs[2].as<float>();
    const int64_t G = 4 * H_;  // gate width

    for (int64_t l = 0; l < L_; ++l) {
      const std::size_t base = kFirstLayerInput + kInputsPerLayer * static_cast<std::size_t>(l);
      const float* w_ih = ctx.inputs[base].as<float>();
      const float* w_hh = ctx.inputs[base + 1].as<float>();
      const float* b_ih = ctx.inputs[base + 2].as<float>();  // nullptr when absent
      const float* b_hh = ctx.inputs[base + 3].as<float>();
      const float* seq_in = l == 0 ? ctx.inputs[0].as<float>() : y;
      const int64_t in = l == 0 ? C_ : H_;

      // x_proj[b, t] = seq_in[b, t]·W_ihᵀ + b_ih for all B·T rows at once.
      gemm_xwt_f32(B_ * T_, G, in, seq_in, in, w_ih, b_ih, x_proj, G);

      const int64_t state_offset = l * B_ * H_;
      if (has_c0_) {
        std::memcpy(c, ctx.inputs[2].as<float>() + state_offset, B_ * H_ * sizeof(float));
      } else {
        std::fill(c, c + B_ * H_, 0.0f);
      }
      // h_{t-1} rows: h0[l] (or zeros) at t = 0, then y[:, t-1] (row stride T·H).
      const float* h_prev = has_h0_ ? ctx.inputs[1].as<float>() + state_offset : zeros;
      int64_t h_stride = H_;

      for (int64_t t = 0; t < T_; ++t) {
        gemm_xwt_f32(B_, G, H_, h_prev, h_stride, w_hh, b_hh, h_proj, G);
        for (int64_t b = 0; b < B_; ++b) {
          const float* gx = x_proj + (b * T_ + t) * G;
          const float* gh = h_proj + b * G;
          float* cb = c + b * H_;
          float* hb = y + (b * T_ + t) * H_;
          for (int64_t j = 0; j < H_; ++j) {
            const float i_gate = sigmoid(gx[j] + gh[j]);
            const float f_gate = sigmoid(gx[H_ + j] + gh[H_ + j]);
            const float g_gate = std::tanh(gx[2 * H_ + j] + gh[2 * H_ + j]);
            const float o_gate = sigmoid(gx[3 * H_ + j] + gh[3 * H_ + j]);
            cb[j] = f_gate * cb[j] + i_gate * g_gate;
            hb[j] = o_gate * std::tanh(cb[j]);
          }
        }
        h_prev = y + t * H_;
        h_stride = T_ * H_;
      }

      if (h_n != nullptr)
        for (int64_t b = 0; b < B_; ++b)
          std::memcpy(h_n + state_offset + b * H_, h_prev + b * h_stride, H_ * sizeof(float));
      if (c_n != nullptr) std::memcpy(c_n + state_offset, c, B_ * H_ * sizeof(float));
    }
    return Status::ok();
  }

 private:
  int64_t H_ = 0, L_ = 0, B_ = 0, T_ = 0, C_ = 0;
  bool has_h0_ = false, has_c0_ = false;
};

}  // namespace

std::unique_ptr<runtime::Kernel> make_lstm_kernel() {
  return std::make_unique<LstmKernel>();
}

}  // namespace qrt::ops
