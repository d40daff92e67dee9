// LSTM backward through time (PyTorch nn.LSTM, batch_first, gate order i, f, g, o; the forward is
// ops/lstm.cpp). The gates and cell states are recomputed with the forward's own arithmetic (the
// same gemm_xwt products and activation_math.h functions), then each layer, top to bottom, runs
// time backwards. With a_* the gate pre-activations, i = σ(a_i), f = σ(a_f), g = tanh(a_g),
// o = σ(a_o), c_t = f·c_{t-1} + i·g, h_t = o·tanh(c_t):
//   dh   = dh_seq[t] + dh_next                       (from y / the layer above, and from t + 1)
//   dc   = dc_next + dh·o·(1 - tanh²c_t)
//   da_i = dc·g·i(1 - i)    da_f = dc·c_{t-1}·f(1 - f)    da_g = dc·i·(1 - g²)    da_o =
//   dh·tanh(c_t)·o(1 - o) dc_next = dc·f          dh_next = da_t·W_hh
// dh_next/dc_next start from dh_n/dc_n of the layer and end as dh0/dc0. Over all steps at once:
//   dW_ih += daᵀ·in_seq     dW_hh += daᵀ·h_prev_seq (h_{t-1} rows)     db_ih, db_hh += Σ_{b,t} da
//   d(in_seq) = da·W_ih     (dx for layer 0, the layer below's dh_seq otherwise).
// Under LstmAttrs::hidden_fake_quant the projections read rounded copies of h_{t-1} (h0 at t = 0)
// and of the layer below's sequence, as the forward does: the products and dW use the rounded
// values, and the rounding passes gradients straight through: h_t lies in (-1, 1), inside the
// clamp, where the clipped straight-through estimator of docs/quantization.md §8 is the identity
// (a given h0 is treated the same, clamped or not).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "ops/activation_math.h"
#include "ops/lstm.h"
#include "train/gradients/gradient_support.h"
#include "train/gradients/gradients.h"
#include "train/gradients/matmul_gradient.h"

namespace qrt::train {

namespace {

// Inputs: x, h0?, c0?, then per layer w_ih, w_hh, b_ih?, b_hh? (ir/ops.def).
constexpr std::size_t kFirstLayerInput = 3;
constexpr std::size_t kInputsPerLayer = 4;

std::size_t input_index(int64_t layer, std::size_t k) {
  return kFirstLayerInput + kInputsPerLayer * static_cast<std::size_t>(layer) + k;
}

struct Dims {
  int64_t B = 0, T = 0, C = 0, H = 0, L = 0;
  int64_t in(int64_t layer) const { return layer == 0 ? C : H; }
};

// What the forward computed for one layer, kept for its backward: activated gates [B·T, 4H]
// (i, f, g, o), cell states c_t and hidden states h_t [B·T, H] (row b·T + t).
struct LayerTrace {
  FloatBuffer gates, c, h;
  // Under hidden_fake_quant: lstm_hidden_fake_quant of h and of the layer's initial h [B, H],
  // which the projections read instead of them. Null otherwise.
  FloatBuffer h_rounded, h0_rounded;
  const float* h_read() const { return h_rounded ? h_rounded.get() : h.get(); }
  const float* h0_read(const float* h0) const { return h0_rounded ? h0_rounded.get() : h0; }
};

Status check_shapes(const GradientArgs& args, const Dims& d) {
  const ir::Node& node = args.node;
  const ir::Shape state = {d.L, d.B, d.H};
  if (args.inputs[1].present())
    QRT_RETURN_IF_ERROR(expect_shape(node, "h0", args.inputs[1].shape, state));
  if (args.inputs[2].present())
    QRT_RETURN_IF_ERROR(expect_shape(node, "c0", args.inputs[2].shape, state));
  for (int64_t l = 0; l < d.L; ++l) {
    const std::string layer = " of layer " + std::to_string(l);
    const runtime::ConstTensorView& w_ih = args.inputs[input_index(l, 0)];
    const runtime::ConstTensorView& w_hh = args.inputs[input_index(l, 1)];
    if (!w_ih.present() || !w_hh.present())
      return gradient_error(node, "weights" + layer + " are absent");
    QRT_RETURN_IF_ERROR(expect_shape(node, "w_ih" + layer, w_ih.shape, {4 * d.H, d.in(l)}));
    QRT_RETURN_IF_ERROR(expect_shape(node, "w_hh" + layer, w_hh.shape, {4 * d.H, d.H}));
    for (std::size_t k = 2; k < kInputsPerLayer; ++k) {
      const runtime::ConstTensorView& b = args.inputs[input_index(l, k)];
      if (b.present())
        QRT_RETURN_IF_ERROR(
            expect_shape(node, (k == 2 ? "b_ih" : "b_hh") + layer, b.shape, {4 * d.H}));
    }
  }
  QRT_RETURN_IF_ERROR(expect_output_shape(args, 0, "output y", {d.B, d.T, d.H}));
  QRT_RETURN_IF_ERROR(expect_output_shape(args, 1, "output h_n", state));
  return expect_output_shape(args, 2, "output c_n", state);
}

// The initial state of `layer` ([B, H] rows of h0 or c0), or `zeros` when absent.
const float* initial_state(const runtime::ConstTensorView& state, const Dims& d, int64_t layer,
                           const float* zeros) {
  return state.present() ? state.as<float>() + layer * d.B * d.H : zeros;
}

// Recomputes layer `l` exactly as ops/lstm.cpp does (`seq_in` as the input projection reads it).
LayerTrace forward_layer(const GradientArgs& args, const Dims& d, int64_t l, const float* seq_in,
                         const float* zeros, bool hidden_fake_quant) {
  const int64_t H = d.H, G = 4 * H, T = d.T;
  const float* w_ih = args.inputs[input_index(l, 0)].as<float>();
  const float* w_hh = args.inputs[input_index(l, 1)].as<float>();
  const float* b_ih = args.inputs[input_index(l, 2)].as<float>();  // nullptr when absent
  const float* b_hh = args.inputs[input_index(l, 3)].as<float>();
  LayerTrace trace{uninitialized_floats(d.B * T * G), uninitialized_floats(d.B * T * H),
                   uninitialized_floats(d.B * T * H), nullptr, nullptr};
  // Input projections of all steps first (into the gate buffer), then the recurrence.
  gemm_xwt_parallel(d.B * T, G, d.in(l), seq_in, d.in(l), w_ih, b_ih, trace.gates.get(), G);
  const FloatBuffer h_proj = uninitialized_floats(d.B * G);
  const float* h0 = initial_state(args.inputs[1], d, l, zeros);
  if (hidden_fake_quant) {
    trace.h0_rounded = uninitialized_floats(d.B * H);
    ops::lstm_hidden_fake_quant(d.B, H, h0, H, trace.h0_rounded.get());
    trace.h_rounded = uninitialized_floats(d.B * T * H);
  }
  const float* h_prev = trace.h0_read(h0);
  const float* c0 = initial_state(args.inputs[2], d, l, zeros);
  int64_t h_stride = H;
  for (int64_t t = 0; t < T; ++t) {
    gemm_xwt_parallel(d.B, G, H, h_prev, h_stride, w_hh, b_hh, h_proj.get(), G);
    for (int64_t b = 0; b < d.B; ++b) {
      const int64_t row = b * T + t;
      float* gate = trace.gates.get() + row * G;
      const float* gh = h_proj.get() + b * G;
      const float* c_prev = t > 0 ? trace.c.get() + (row - 1) * H : c0 + b * H;
      float* c = trace.c.get() + row * H;
      float* h = trace.h.get() + row * H;
      for (int64_t j = 0; j < H; ++j) {
        const float i_gate = ops::sigmoid(gate[j] + gh[j]);
        const float f_gate = ops::sigmoid(gate[H + j] + gh[H + j]);
        const float g_gate = std::tanh(gate[2 * H + j] + gh[2 * H + j]);
        const float o_gate = ops::sigmoid(gate[3 * H + j] + gh[3 * H + j]);
        gate[j] = i_gate;
        gate[H + j] = f_gate;
        gate[2 * H + j] = g_gate;
        gate[3 * H + j] = o_gate;
        c[j] = f_gate * c_prev[j] + i_gate * g_gate;
        h[j] = o_gate * std::tanh(c[j]);
      }
      if (hidden_fake_quant)
        ops::lstm_hidden_fake_quant(1, H, h, H, trace.h_rounded.get() + row * H);
    }
    h_prev = trace.h_read() + t * H;
    h_stride = T * H;
  }
  return trace;
}

}  // namespace

Status lstm_backward(const GradientArgs& args) {
  const ir::Node& node = args.node;
  QRT_ASSIGN_OR_RETURN(const ir::LstmAttrs* attrs, gradient_attrs<ir::LstmAttrs>(node));
  if (attrs->hidden_size <= 0 || attrs->num_layers <= 0)
    return gradient_error(node, "hidden_size " + std::to_string(attrs->hidden_size) +
                                    " and num_layers " + std::to_string(attrs->num_layers) +
                                    " must be > 0");
  const std::size_t n_inputs = input_index(attrs->num_layers, 0);
  QRT_RETURN_IF_ERROR(expect_arity(args, n_inputs, n_inputs, 3, 1));
  const ir::Shape& x = args.inputs[0].shape;
  if (x.size() != 3)
    return gradient_error(node,
                          "input x has shape " + ir::shape_to_string(x) + ", expected [B, T, C]");
  Dims d;
  d.B = x[0];
  d.T = x[1];
  d.C = x[2];
  d.H = attrs->hidden_size;
  d.L = attrs->num_layers;
  QRT_RETURN_IF_ERROR(check_shapes(args, d));
  const float* dy = output_grad(args, 0);
  const float* dh_n = output_grad(args, 1);
  const float* dc_n = output_grad(args, 2);
  if (dy == nullptr && dh_n == nullptr && dc_n == nullptr) return Status::ok();

  const int64_t B = d.B, T = d.T, H = d.H, G = 4 * H;
  const std::vector<float> zeros(static_cast<std::size_t>(B * H), 0.0f);
  std::vector<LayerTrace> traces;
  traces.reserve(static_cast<std::size_t>(d.L));
  for (int64_t l = 0; l < d.L; ++l) {
    const float* seq_in = l == 0 ? args.inputs[0].as<float>() : traces.back().h_read();
    traces.push_back(forward_layer(args, d, l, seq_in, zeros.data(), attrs->hidden_fake_quant));
  }

  // dL/d(layer output sequence) [B·T, H]: dy for the top layer, then d(in_seq) of the layer above.
  std::vector<float> dh_seq(static_cast<std::size_t>(B * T * H), 0.0f);
  if (dy != nullptr) std::copy(dy, dy + B * T * H, dh_seq.begin());
  const FloatBuffer dgates = uninitialized_floats(B * T * G);
  std::vector<float> dh_next(static_cast<std::size_t>(B * H)), dc_next(dh_next.size());

  for (int64_t l = d.L - 1; l >= 0; --l) {
    const LayerTrace& tr = traces[l];
    const int64_t state_offset = l * B * H;
    if (dh_n != nullptr)
      std::copy(dh_n + state_offset, dh_n + state_offset + B * H, dh_next.begin());
    else
      std::fill(dh_next.begin(), dh_next.end(), 0.0f);
    if (dc_n != nullptr)
      std::copy(dc_n + state_offset, dc_n + state_offset + B * H, dc_next.begin());
    else
      std::fill(dc_next.begin(), dc_next.end(), 0.0f);
    const float* c0 = initial_state(args.inputs[2], d, l, zeros.data());
    const float* w_ih = args.inputs[input_index(l, 0)].as<float>();
    const float* w_hh = args.inputs[input_index(l, 1)].as<float>();
    const FloatBuffer w_hh_t = transposed(w_hh, G, H, H);  // [H, 4H]

    for (int64_t t = T - 1; t >= 0; --t) {
      for (int64_t b = 0; b < B; ++b) {
        const int64_t row = b * T + t;
        const float* gate = tr.gates.get() + row * G;
        const float* c = tr.c.get() + row * H;
        const float* c_prev = t > 0 ? tr.c.get() + (row - 1) * H : c0 + b * H;
        const float* dh_out = dh_seq.data() + row * H;
        float* dh_rec = dh_next.data() + b * H;
        float* dc_rec = dc_next.data() + b * H;
        float* da = dgates.get() + row * G;
        for (int64_t j = 0; j < H; ++j) {
          const float i_gate = gate[j], f_gate = gate[H + j];
          const float g_gate = gate[2 * H + j], o_gate = gate[3 * H + j];
          const float tanh_c = std::tanh(c[j]);
          const float dh = dh_out[j] + dh_rec[j];
          const float dc = dc_rec[j] + dh * o_gate * (1.0f - tanh_c * tanh_c);
          da[j] = dc * g_gate * i_gate * (1.0f - i_gate);
          da[H + j] = dc * c_prev[j] * f_gate * (1.0f - f_gate);
          da[2 * H + j] = dc * i_gate * (1.0f - g_gate * g_gate);
          da[3 * H + j] = dh * tanh_c * o_gate * (1.0f - o_gate);
          dc_rec[j] = dc * f_gate;
        }
      }
      // dh_{t-1} = da_t·W_hh (replaces dh_next, which step t has consumed).
      gemm_xwt_parallel(B, H, G, dgates.get() + t * G, T * G, w_hh_t.get(), nullptr, dh_next.data(),
                        H);
    }
    if (float* dh0 = wanted_grad(args, 1)) accumulate(dh0 + state_offset, dh_next.data(), B * H);
    if (float* dc0 = wanted_grad(args, 2)) accumulate(dc0 + state_offset, dc_next.data(), B * H);

    // Weight gradients as products over all B·T rows: daᵀ [4H, B·T] is transposed once and
    // shared by dW_ih and dW_hh.
    const int64_t BT = B * T;
    float* dw_ih = wanted_grad(args, input_index(l, 0));
    float* dw_hh = wanted_grad(args, input_index(l, 1));
    if ((dw_ih != nullptr || dw_hh != nullptr) && BT > 0) {
      const FloatBuffer dgates_t = transposed(dgates.get(), BT, G, G);  // [4H, B·T]
      if (dw_ih != nullptr) {
        const float* seq_in = l == 0 ? args.inputs[0].as<float>() : traces[l - 1].h_read();
        const FloatBuffer seq_in_t = transposed(seq_in, BT, d.in(l), d.in(l));  // [In, B·T]
        accumulate_gemm_xwt(G, d.in(l), BT, dgates_t.get(), BT, seq_in_t.get(), dw_ih, d.in(l));
      }
      if (dw_hh != nullptr) {
        // h_prev_t[j, b·T + t] = h_{t-1}[b, j]: the transposed h sequence shifted one step right
        // within each batch row, with h0 (or zeros) in front.
        const float* h0 = tr.h0_read(initial_state(args.inputs[1], d, l, zeros.data()));
        const FloatBuffer h_t = transposed(tr.h_read(), BT, H, H);  // [H, B·T]
        const FloatBuffer h_prev_t = uninitialized_floats(H * BT);
        for (int64_t j = 0; j < H; ++j)
          for (int64_t b = 0; b < B; ++b) {
            float* dst = h_prev_t.get() + j * BT + b * T;
            dst[0] = h0[b * H + j];
            std::memcpy(dst + 1, h_t.get() + j * BT + b * T, (T - 1) * sizeof(float));
          }
        accumulate_gemm_xwt(G, H, BT, dgates_t.get(), BT, h_prev_t.get(), dw_hh, H);
      }
    }
    float* db_ih = wanted_grad(args, input_index(l, 2));
    float* db_hh = wanted_grad(args, input_index(l, 3));
    if (db_ih != nullptr) accumulate_column_sums(B * T, G, dgates.get(), G, db_ih);
    if (db_hh != nullptr) accumulate_column_sums(B * T, G, dgates.get(), G, db_hh);

    if (l > 0) {  // the layer below's dh_seq = da·W_ih, overwriting this layer's
      const FloatBuffer w_ih_t = transposed(w_ih, G, H, H);  // [H, 4H]
      gemm_xwt_parallel(B * T, H, G, dgates.get(), G, w_ih_t.get(), nullptr, dh_seq.data(), H);
    } else if (float* dx = wanted_grad(args, 0)) {
      accumulate_dy_w(B * T, G, d.C, dgates.get(), G, w_ih, dx, d.C);
    }
  }
  return Status::ok();
}

}  // namespace qrt::train
