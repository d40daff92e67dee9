// Float64 forwards of the differentiable ops, written independently of ops/ from the formulas in
// ir/ops.def and PyTorch's documentation: the functions the finite differences differentiate.
#pragma once

#include <functional>

#include "ir/op_kind.h"
#include "tests/train/gradients/gradient_harness.h"

namespace qrt::testing {

// y = x·Wᵀ + b  (x [..., K], W [N, K], b? [N]).
std::vector<Tensor64> linear64(const Inputs64& in);
// PyTorch nn.LSTM, batch_first, gates i, f, g, o; inputs as ir/ops.def; outputs y, h_n, c_n.
// `hidden_read`, when given, maps every hidden-state value a projection reads (per layer: for
// l > 0 the layer below's sequence, then per batch row and step h_{t-1}, in that order): what
// LstmAttrs::hidden_fake_quant rounds.
std::vector<Tensor64> lstm64(const Inputs64& in, const ir::LstmAttrs& attrs,
                             const std::function<double(double)>& hidden_read = nullptr);
// (x - mean)/sqrt(var + eps)·gamma + beta over the last dim, biased variance.
std::vector<Tensor64> layer_norm64(const Inputs64& in, const ir::LayerNormAttrs& attrs);
// Relu, LeakyRelu, Gelu (erf / tanh), Silu, Sigmoid, Tanh.
std::vector<Tensor64> activation64(const Inputs64& in, ir::OpKind op, const ir::Attrs& attrs);
// Add, Sub, Mul with NumPy broadcasting.
std::vector<Tensor64> binary64(const Inputs64& in, ir::OpKind op);
// y = x under `shape` (the resolved target shape).
std::vector<Tensor64> reshape64(const Inputs64& in, const ir::Shape& shape);
std::vector<Tensor64> transpose64(const Inputs64& in, const std::vector<int64_t>& perm);
// Python slicing along one axis (bounds already non-negative and within the dim in the tests).
std::vector<Tensor64> slice64(const Inputs64& in, const ir::SliceAttrs& attrs);
std::vector<Tensor64> concat64(const Inputs64& in, int64_t axis);

}  // namespace qrt::testing
