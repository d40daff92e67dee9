// The LSTM cell update (PyTorch nn.LSTM), one time step for one batch row, given the two gate
// projections gx = x_t·W_ihᵀ + b_ih and gh = h_{t-1}·W_hhᵀ + b_hh ([4H] each, gate order i, f, g,
// o):
//   c = σ(f)⊙c + σ(i)⊙tanh(g),   h = σ(o)⊙tanh(c)
// lstm_cell_update_reference is the definition (scalar, ops/activation_math.h). lstm_cell_update
// picks an AVX-512 form on CPUs that have it: exp by range reduction and a polynomial (Cephes
// expf, about 1 ulp), σ(x) = 1 / (1 + e^-x), tanh(x) = sign(x)·(1 − e^-2|x|) / (1 + e^-2|x|),
// all finite for every finite input; it agrees with the reference to a few float ulps.
#pragma once

#include <cstdint>

namespace qrt::ops {

void lstm_cell_update(const float* gx, const float* gh, float* c, float* h, int64_t H);
void lstm_cell_update_reference(const float* gx, const float* gh, float* c, float* h, int64_t H);
// "avx512" or "scalar": what lstm_cell_update runs on this CPU.
const char* lstm_cell_implementation();

}  // namespace qrt::ops
