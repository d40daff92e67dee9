// What the host side of the LSTM (lstm_plan.cpp, lstm_launch in lstm_kernels.cu) hands the two
// kernels. Private to cuda/lstm/; plain C++ so that both compilers read it.
#pragma once

#include <cstdint>

#include "cuda/lstm/lstm.cuh"
#include "ir/status.h"

namespace qrt::cuda::lstm_detail {

// Layer 0's input projection: x_proj[r, n] = x[r]·W_ih0[n]ᵀ + b_ih0[n] for r < rows (= B·T),
// n < N (= 4H), in the precision's arithmetic.
struct InputProjectionParams {
  const void* w = nullptr;          // [N, C] f16 bits, int8 or packed NF4
  const float* bias = nullptr;      // [N] (zeros when the model has none)
  const float* w_scales = nullptr;  // [N] int8; [N, C / block] block absmax for NF4
  const float* x = nullptr;         // [rows, C]
  float* x_proj = nullptr;          // [rows, N]
  int64_t rows = 0;
  int32_t C = 0;
  int32_t N = 0;
  int32_t nf4_block = 0;  // NF4 only
  LstmInputQuant quant;   // int8-static only
};

// The persistent recurrence (see lstm.cuh for the scheme).
struct RecurrenceParams {
  const unsigned char* blocks =
      nullptr;                    // cluster_size weight blocks, smem.weight_block_bytes each
  const float* x_proj = nullptr;  // [B, T, 4H]
  const float* h0 = nullptr;      // [L, B, H] or null
  const float* c0 = nullptr;
  float* y = nullptr;  // [B, T, H]
  float* h_n = nullptr;
  float* c_n = nullptr;
  int32_t B = 0, T = 0, H = 0, L = 0;
  int32_t Hp = 0;                // H rounded up to 8
  int32_t units_per_cta = 0;     // ceil(H / cluster_size)
  int32_t rows_per_cluster = 0;  // batch rows each cluster serves in this launch (<= R)
  int32_t row_capacity = 0;      // R: the state buffers' row count (layout stride)
  int32_t cluster_size = 0;
  int32_t scales_per_row = 0;  // LstmLaunchShape::scales_per_row
  int32_t nf4_block = 0;       // NF4 only
  LstmSmemLayout smem;
};

// Sets the kernel's dynamic shared memory limit and returns how many clusters of this shape can
// be resident at once on the current device (cudaOccupancyMaxActiveClusters); kUnsupported when
// not even one can.
Result<int> max_active_clusters(LstmPrecision precision, const LstmLaunchShape& shape);

// The bits of one weight element in the recurrent blocks and layer 0's input weights.
inline int64_t weight_element_bits(LstmPrecision precision) {
  switch (precision) {
    case LstmPrecision::kFp16:
      return 16;
    case LstmPrecision::kNf4:
      return 4;
    default:
      return 8;
  }
}

}  // namespace qrt::cuda::lstm_detail
