// LSTM kernels: layer 0's input projection and the persistent wavefront recurrence, and the
// launcher (see lstm.cuh for the scheme and the per-precision arithmetic).
//
// The recurrence, for every layer l and step t (PyTorch nn.LSTM, gates i, f, g, o):
//   gx = x_t·W_ihᵀ + b_ih      (layer 0: precomputed for all t; layer l > 0: x_t = h_{l-1, t})
//   gh = h_{t-1}·W_hhᵀ + b_hh
//   i, f, g, o = σ(gx+gh)[0:H], σ(gx+gh)[H:2H], tanh(gx+gh)[2H:3H], σ(gx+gh)[3H:4H]
//   c_t = f ⊙ c_{t-1} + i ⊙ g;   h_t = o ⊙ tanh(c_t)
#include <cooperative_groups.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include "cuda/cuda_status.h"
#include "cuda/lstm/lstm.cuh"
#include "cuda/lstm/lstm_kernel_params.h"
#include "ir/quant_formats.h"

namespace qrt::cuda {

namespace cg = cooperative_groups;
using lstm_detail::InputProjectionParams;
using lstm_detail::RecurrenceParams;

namespace {

constexpr int kWarpSize = 32;
constexpr unsigned kFullMask = 0xffffffffu;
constexpr int kInputProjectionThreads = 128;
constexpr float kInt8Max = 127.0f;
// The CPU projections' kMinQuantizedK (ops/quantized/decoded_projection.h): int8-dynamic (and
// w8a16, NF4) reductions shorter than this use decoded f32 weights and unquantized activations.
// LstmPlan rejects int8-dynamic with H below it (the recurrent products would need that path too).
constexpr int kMinQuantizedK = 16;
// int8-static hidden states: symmetric with scale 1/127 (ops/quantized/lstm_quantized.cpp), so
// q = round(h / (1/127)); the division by the float 1/127 (not a multiplication by 127) is what the
// CPU reference computes.
constexpr float kStaticHiddenScale = 1.0f / 127.0f;

// The one NF4 codebook (ir/quant_formats.h), in constant memory; kernels copy it to shared memory,
// where 16 distinct words sit in 16 distinct banks and per-lane look-ups never conflict.
__constant__ float kNf4Codebook[16] = {
    ir::kNF4Codebook[0],  ir::kNF4Codebook[1],  ir::kNF4Codebook[2],  ir::kNF4Codebook[3],
    ir::kNF4Codebook[4],  ir::kNF4Codebook[5],  ir::kNF4Codebook[6],  ir::kNF4Codebook[7],
    ir::kNF4Codebook[8],  ir::kNF4Codebook[9],  ir::kNF4Codebook[10], ir::kNF4Codebook[11],
    ir::kNF4Codebook[12], ir::kNF4Codebook[13], ir::kNF4Codebook[14], ir::kNF4Codebook[15]};

// The 4-bit code of element k of a packed NF4 row (byte k/2: high nibble for even k).
__device__ __forceinline__ int nf4_code(const uint8_t* row, int k) {
  const int byte = row[k >> 1];
  return (k & 1) != 0 ? (byte & 0xF) : (byte >> ir::kNF4HighNibbleShift);
}

// ---------------------------------------------------------------------------------------------------
// Shared device helpers.

// σ(x) without overflow for large |x|, the same split as ops/activation_math.h.
__device__ __forceinline__ float sigmoid(float x) {
  if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
  const float e = expf(x);
  return e / (1.0f + e);
}

// Rounds to the nearest f16 value (ties to even) and back: what the fp16 reference does to every
// activation entering a product and to every projection result.
__device__ __forceinline__ float round_to_half(float v) {
  return __half2float(__float2half_rn(v));
}

// clamp(round_half_even(v), lo, hi) as an int; clamping in float keeps huge |v| away from an
// out-of-range conversion (as quantize_row_fixed does).
__device__ __forceinline__ int32_t round_clamp(float v, float lo, float hi) {
  return static_cast<int32_t>(fminf(fmaxf(rintf(v), lo), hi));
}

__device__ __forceinline__ float warp_max(float v) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2)
    v = fmaxf(v, __shfl_xor_sync(kFullMask, v, offset));
  return v;
}

// Butterfly sums: every lane ends with the same total (each pair adds the same two numbers, and
// float addition is commutative), so all lanes can run the cell update identically.
template <typename T, int kCount>
__device__ __forceinline__ void warp_sum(T (&v)[kCount]) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
#pragma unroll
    for (int i = 0; i < kCount; ++i) v[i] += __shfl_xor_sync(kFullMask, v[i], offset);
  }
}

// ---------------------------------------------------------------------------------------------------
// Layer 0's input projection: one block per row r of x (= one (b, t)); the row is rounded /
// quantized once into shared memory, then thread n computes outputs n, n + blockDim, ...
// Shared memory: C floats, then C int32 codes (int8 only).
//
// int8-dynamic with C < kMinQuantizedK follows the CPU dispatch rule of
// ops/quantized/decoded_projection.h: a reduction that short runs on the dequantized weight,
// y = x·(s_w·q_w)ᵀ + b, with x not quantized (the reference the GPU result is compared with).

template <LstmPrecision kPrecision>
__global__ void __launch_bounds__(kInputProjectionThreads)
    lstm_input_projection_kernel(const InputProjectionParams p) {
  extern __shared__ __align__(16) unsigned char shared[];
  float* xs = reinterpret_cast<float*>(shared);
  int32_t* codes = reinterpret_cast<int32_t*>(xs + p.C);
  __shared__ float warp_partial[kInputProjectionThreads / kWarpSize];
  __shared__ float codebook[16];
  if constexpr (kPrecision == LstmPrecision::kNf4) {
    if (threadIdx.x < 16) codebook[threadIdx.x] = kNf4Codebook[threadIdx.x];
  }

  const int64_t row = blockIdx.x;
  const float* x = p.x + row * p.C;
  for (int k = threadIdx.x; k < p.C; k += blockDim.x)
    xs[k] = kPrecision == LstmPrecision::kFp16 ? round_to_half(x[k]) : x[k];
  __syncthreads();

  float row_scale = 1.0f;
  const bool decoded_f32 = kPrecision == LstmPrecision::kInt8Dynamic && p.C < kMinQuantizedK;
  if (kPrecision == LstmPrecision::kInt8Dynamic && !decoded_f32) {
    // s = max|x| / 127 (1 for an all-zero row); q = clamp(round(x / s), -127, 127).
    float m = 0.0f;
    for (int k = threadIdx.x; k < p.C; k += blockDim.x) m = fmaxf(m, fabsf(xs[k]));
    m = warp_max(m);
    if (threadIdx.x % kWarpSize == 0) warp_partial[threadIdx.x / kWarpSize] = m;
    __syncthreads();
    m = 0.0f;
    for (int w = 0; w < kInputProjectionThreads / kWarpSize; ++w) m = fmaxf(m, warp_partial[w]);
    row_scale = m > 0.0f ? m / kInt8Max : 1.0f;
    for (int k = threadIdx.x; k < p.C; k += blockDim.x)
      codes[k] = round_clamp(xs[k] / row_scale, -kInt8Max, kInt8Max);
  } else if constexpr (kPrecision == LstmPrecision::kInt8Static) {
    // q = clamp(round(x / s) + z, qmin, qmax); the product uses q - z (the folded zero point).
    row_scale = p.quant.scale;
    const auto z = static_cast<float>(p.quant.zero_point);
    const auto lo = static_cast<float>(p.quant.qmin), hi = static_cast<float>(p.quant.qmax);
    for (int k = threadIdx.x; k < p.C; k += blockDim.x)
      codes[k] = static_cast<int32_t>(fminf(fmaxf(rintf(xs[k] / row_scale) + z, lo), hi)) -
                 p.quant.zero_point;
  }
  __syncthreads();

  float* out = p.x_proj + row * p.N;
  for (int n = threadIdx.x; n < p.N; n += blockDim.x) {
    const int64_t w_row = static_cast<int64_t>(n) * p.C;
    if constexpr (kPrecision == LstmPrecision::kFp16) {
      const auto* w = static_cast<const __half*>(p.w) + w_row;
      float acc = 0.0f;
      for (int k = 0; k < p.C; ++k) acc += xs[k] * __half2float(w[k]);
      out[n] = round_to_half(acc + p.bias[n]);
    } else if constexpr (kPrecision == LstmPrecision::kNf4) {
      // Ŵ[n, k] = absmax[n, k / block]·codebook[code] (linear_nf4.cpp), f32 products.
      const auto* w = static_cast<const uint8_t*>(p.w) + w_row / 2;
      const float* absmax = p.w_scales + static_cast<int64_t>(n) * (p.C / p.nf4_block);
      float acc = 0.0f;
      for (int k = 0; k < p.C; ++k)
        acc += xs[k] * (absmax[k / p.nf4_block] * codebook[nf4_code(w, k)]);
      out[n] = acc + p.bias[n];
    } else {
      const auto* w = static_cast<const int8_t*>(p.w) + w_row;
      if (decoded_f32) {
        // Ŵ[n, k] = s_w[n]·q[n, k] formed first, as the CPU's decoded weight is.
        float acc = 0.0f;
        for (int k = 0; k < p.C; ++k) acc += xs[k] * (p.w_scales[n] * static_cast<float>(w[k]));
        out[n] = acc + p.bias[n];
        continue;
      }
      int32_t acc = 0;
      for (int k = 0; k < p.C; ++k) acc += codes[k] * static_cast<int32_t>(w[k]);
      out[n] = row_scale * p.w_scales[n] * static_cast<float>(acc) + p.bias[n];
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// The persistent recurrence.

template <LstmPrecision kPrecision>
using WeightElement =
    std::conditional_t<kPrecision == LstmPrecision::kFp16, __half,
                       std::conditional_t<kPrecision == LstmPrecision::kNf4, uint8_t, int8_t>>;

// Four gate rows (consecutive, Hp elements apart) times one f32 hidden row: each lane takes 8
// consecutive columns per pass (one 16-byte load per row), products accumulated in f32.
__device__ __forceinline__ void dot4_f16(const __half* w, const float* h, int Hp, int lane,
                                         float (&acc)[4]) {
  for (int k = lane * 8; k < Hp; k += kWarpSize * 8) {
    const float4 h0 = *reinterpret_cast<const float4*>(h + k);
    const float4 h1 = *reinterpret_cast<const float4*>(h + k + 4);
#pragma unroll
    for (int g = 0; g < 4; ++g) {
      const uint4 raw = *reinterpret_cast<const uint4*>(w + static_cast<int64_t>(g) * Hp + k);
      const __half2* w2 = reinterpret_cast<const __half2*>(&raw);
      const float2 a = __half22float2(w2[0]);
      const float2 b = __half22float2(w2[1]);
      const float2 c = __half22float2(w2[2]);
      const float2 d = __half22float2(w2[3]);
      acc[g] += a.x * h0.x + a.y * h0.y + b.x * h0.z + b.y * h0.w + c.x * h1.x + c.y * h1.y +
                d.x * h1.z + d.y * h1.w;
    }
  }
}

// The int8 form: 8 codes per lane per pass (one 8-byte load per row), two dp4a each; exact int32.
__device__ __forceinline__ void dot4_i8(const int8_t* w, const int8_t* hq, int Hp, int lane,
                                        int32_t (&acc)[4]) {
  for (int k = lane * 8; k < Hp; k += kWarpSize * 8) {
    const int2 hv = *reinterpret_cast<const int2*>(hq + k);
#pragma unroll
    for (int g = 0; g < 4; ++g) {
      const int2 wv = *reinterpret_cast<const int2*>(w + static_cast<int64_t>(g) * Hp + k);
      acc[g] = __dp4a(wv.x, hv.x, acc[g]);
      acc[g] = __dp4a(wv.y, hv.y, acc[g]);
    }
  }
}

// The NF4 form: 8 codes (4 bytes) per lane per pass, all in one block (blocks hold >= 32
// elements and start at multiples of 8); Ŵ = absmax·codebook[code], the block's absmax factored
// out of its 8 products. `absmax` holds `scales_per_row` floats per row.
__device__ __forceinline__ void dot4_nf4(const uint8_t* w, const float* absmax, int scales_per_row,
                                         int block, const float* h, int Hp, int lane,
                                         const float* codebook, float (&acc)[4]) {
  const int row_bytes = Hp / 2;
  for (int k = lane * 8; k < Hp; k += kWarpSize * 8) {
    const float4 h0 = *reinterpret_cast<const float4*>(h + k);
    const float4 h1 = *reinterpret_cast<const float4*>(h + k + 4);
    const float hv[8] = {h0.x, h0.y, h0.z, h0.w, h1.x, h1.y, h1.z, h1.w};
    const int block_index = k / block;
#pragma unroll
    for (int g = 0; g < 4; ++g) {
      const uint32_t packed =
          *reinterpret_cast<const uint32_t*>(w + static_cast<int64_t>(g) * row_bytes + k / 2);
      float part = 0.0f;
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const uint32_t byte = (packed >> (8 * i)) & 0xFFu;  // elements k + 2i (high), k + 2i + 1
        part += hv[2 * i] * codebook[byte >> ir::kNF4HighNibbleShift] +
                hv[2 * i + 1] * codebook[byte & 0xFu];
      }
      acc[g] += absmax[g * scales_per_row + block_index] * part;
    }
  }
}

// Barrier for all CTAs of the cluster (release / acquire: the DSMEM stores before it are visible
// after it), or of the one CTA when there is no cluster.
__device__ __forceinline__ void step_barrier(int cluster_size) {
  if (cluster_size > 1) {
    cg::this_cluster().sync();
  } else {
    __syncthreads();
  }
}

// Index helpers for the shared-memory arrays of lstm.cuh's LstmSmemLayout.
struct SmemView {
  unsigned char* base;
  template <typename T>
  __device__ T* at(int64_t offset) const {
    return reinterpret_cast<T*>(base + offset);
  }
};

template <LstmPrecision kPrecision>
__global__ void __launch_bounds__(kLstmThreadsPerBlock, 1)
    lstm_recurrence_kernel(const RecurrenceParams p) {
  using Element = WeightElement<kPrecision>;
  constexpr bool kFp16 = kPrecision == LstmPrecision::kFp16;
  constexpr bool kNf4 = kPrecision == LstmPrecision::kNf4;
  constexpr bool kInt8 = !kFp16 && !kNf4;
  extern __shared__ __align__(16) unsigned char shared[];
  const SmemView smem{shared};

  const int cs = p.cluster_size;
  const int rank = cs > 1 ? static_cast<int>(cg::this_cluster().block_rank()) : 0;
  const int cluster_index = static_cast<int>(blockIdx.x) / cs;
  const int R = p.row_capacity;                              // layout stride of the state buffers
  const int row_begin = cluster_index * p.rows_per_cluster;  // first batch row of this cluster
  // >= 1 (the grid has ceil(B / rows_per_cluster) clusters) and <= R (rows_per_cluster <= R).
  const int rows = min(p.rows_per_cluster, p.B - row_begin);
  const int U = p.units_per_cta;
  const int unit_begin = rank * U;  // first hidden unit of this CTA
  const int units = max(0, min(U, p.H - unit_begin));
  const int H = p.H, Hp = p.Hp, L = p.L, T = p.T;
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
  const int num_warps = static_cast<int>(blockDim.x) / kWarpSize;

  // 1. This CTA's weight block into shared memory (16-byte copies; both sizes are multiples of
  //    16), the state region zeroed (this also zeroes the padding columns [H, Hp) of every h row,
  //    which the products then multiply by zero weights).
  {
    const auto* src = reinterpret_cast<const int4*>(p.blocks + rank * p.smem.weight_block_bytes);
    auto* dst = reinterpret_cast<int4*>(shared);
    const int64_t weight_vectors = p.smem.weight_block_bytes / 16;
    for (int64_t i = threadIdx.x; i < weight_vectors; i += blockDim.x) dst[i] = src[i];
    const int64_t total_vectors = p.smem.total_bytes / 16;
    const int4 zero = make_int4(0, 0, 0, 0);
    for (int64_t i = weight_vectors + threadIdx.x; i < total_vectors; i += blockDim.x)
      dst[i] = zero;
  }
  __syncthreads();

  float* c_state = smem.at<float>(p.smem.c);  // [L][R][U]
  float* h_full = smem.at<float>(p.smem.h);   // [2][L][R][Hp]
  const int64_t h_parity_stride = static_cast<int64_t>(L) * R * Hp;

  // 2. Initial state: h_{l,-1} = h0[l] in BOTH parities (layer l first reads it in super-step l,
  //    whose read parity depends on l), c_{l,-1} = c0[l] for this CTA's units.
  if (p.h0 != nullptr) {
    for (int64_t i = threadIdx.x; i < static_cast<int64_t>(L) * R * H; i += blockDim.x) {
      const int l = static_cast<int>(i / (static_cast<int64_t>(R) * H));
      const int b = static_cast<int>(i / H % R);
      const int k = static_cast<int>(i % H);
      if (b >= rows) continue;
      float v = p.h0[(static_cast<int64_t>(l) * p.B + row_begin + b) * H + k];
      if constexpr (kFp16) v = round_to_half(v);
      const int64_t at = (static_cast<int64_t>(l) * R + b) * Hp + k;
      h_full[at] = v;
      h_full[h_parity_stride + at] = v;
    }
  }
  if (p.c0 != nullptr) {
    for (int i = threadIdx.x; i < L * R * U; i += blockDim.x) {
      const int l = i / (R * U);
      const int b = i / U % R;
      const int u = i % U;
      if (b >= rows || u >= units) continue;
      c_state[i] = p.c0[(static_cast<int64_t>(l) * p.B + row_begin + b) * H + unit_begin + u];
    }
  }
  if constexpr (kNf4) {
    if (threadIdx.x < 16) smem.at<float>(p.smem.codebook)[threadIdx.x] = kNf4Codebook[threadIdx.x];
  }
  // Every CTA of the cluster must have started (and initialized) before any DSMEM store.
  step_barrier(cs);

  const Element* w_hh = smem.at<Element>(p.smem.w_hh);
  const Element* w_ih = smem.at<Element>(p.smem.w_ih);
  const float* b_ih = smem.at<float>(p.smem.b_ih);
  const float* b_hh = smem.at<float>(p.smem.b_hh);
  const float* s_ih = smem.at<float>(p.smem.s_ih);
  const float* s_hh = smem.at<float>(p.smem.s_hh);
  const float* codebook = smem.at<float>(p.smem.codebook);
  const int S = p.scales_per_row;  // int8: 1 scale per row; NF4: H / block absmax per row
  int8_t* h_codes = smem.at<int8_t>(p.smem.hq);      // [L][R][Hp]
  float* h_scales = smem.at<float>(p.smem.h_scale);  // [L][R]
  const int64_t gate_width = 4 * static_cast<int64_t>(H);

  // 3. Super-steps: layer l runs step t = s - l.
  const int super_steps = T + L - 1;
  for (int s = 0; s < super_steps; ++s) {
    const float* h_read = h_full + ((s + 1) & 1) * h_parity_stride;  // written in step s - 1
    const int64_t write_offset = (s & 1) * h_parity_stride;

    if constexpr (kInt8) {
      // Quantize every hidden row read this step, one warp per (layer, row). Row l serves layer l
      // (its h_{t-1}) and layer l + 1 (its input h_{l, t}): the same row, so the same codes.
      for (int lr = warp; lr < L * rows; lr += num_warps) {
        const int r = lr / rows * R + lr % rows;  // (layer, row) -> state row l·R + b
        const float* h = h_read + static_cast<int64_t>(r) * Hp;
        int8_t* q = h_codes + static_cast<int64_t>(r) * Hp;
        float scale = kStaticHiddenScale;
        if constexpr (kPrecision == LstmPrecision::kInt8Dynamic) {
          float m = 0.0f;
          for (int k = lane; k < H; k += kWarpSize) m = fmaxf(m, fabsf(h[k]));
          m = warp_max(m);
          scale = m > 0.0f ? m / kInt8Max : 1.0f;
        }
        for (int k = lane; k < H; k += kWarpSize)
          q[k] = static_cast<int8_t>(round_clamp(h[k] / scale, -kInt8Max, kInt8Max));
        if (lane == 0) h_scales[r] = scale;
      }
      __syncthreads();
    }

    // One warp per (layer, row, unit) item: the unit's four gate rows, then its cell update.
    // Items run over this cluster's rows only; state indices use the capacity R as stride.
    const int items = L * rows * U;
    for (int item = warp; item < items; item += num_warps) {
      const int u = item % U;
      const int b = item / U % rows;
      const int l = item / (U * rows);
      const int t = s - l;
      if (u >= units || t < 0 || t >= T) continue;  // uniform across the warp
      const int j = unit_begin + u;
      const int64_t batch_row = row_begin + b;
      const int gate_row0 = (l * U + u) * 4;  // this unit's first gate row in the block

      // Layer 0's gx was precomputed (bias included); issue its loads first.
      float gx[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      if (l == 0) {
        const float* xp = p.x_proj + (batch_row * T + t) * gate_width + j;
#pragma unroll
        for (int g = 0; g < 4; ++g) gx[g] = xp[g * H];
      }
      float c_prev = 0.0f;
      if (lane == 0) c_prev = c_state[(l * R + b) * U + u];

      const int64_t own_row = (static_cast<int64_t>(l) * R + b) * Hp;        // h_{l, t-1}
      const int64_t below_row = (static_cast<int64_t>(l - 1) * R + b) * Hp;  // h_{l-1, t}
      float gh[4];
      if constexpr (kInt8) {
        int32_t acc_hh[4] = {0, 0, 0, 0};
        int32_t acc_ih[4] = {0, 0, 0, 0};
        dot4_i8(w_hh + static_cast<int64_t>(gate_row0) * Hp, h_codes + own_row, Hp, lane, acc_hh);
        if (l > 0)
          dot4_i8(w_ih + static_cast<int64_t>(gate_row0 - 4 * U) * Hp, h_codes + below_row, Hp,
                  lane, acc_ih);
        warp_sum(acc_hh);
        if (l > 0) warp_sum(acc_ih);
        const float s_own = h_scales[l * R + b];
#pragma unroll
        for (int g = 0; g < 4; ++g) {
          // y = s_x·s_w[n]·acc + b[n], the CPU reference's order.
          gh[g] = s_own * s_hh[gate_row0 + g] * static_cast<float>(acc_hh[g]) + b_hh[gate_row0 + g];
          if (l > 0) {
            const float s_below = h_scales[(l - 1) * R + b];
            gx[g] =
                s_below * s_ih[gate_row0 + g] * static_cast<float>(acc_ih[g]) + b_ih[gate_row0 + g];
          }
        }
      } else if constexpr (kNf4) {
        float acc_hh[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        float acc_ih[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        const int64_t row_bytes = Hp / 2;
        dot4_nf4(w_hh + gate_row0 * row_bytes, s_hh + gate_row0 * S, S, p.nf4_block,
                 h_read + own_row, Hp, lane, codebook, acc_hh);
        if (l > 0)
          dot4_nf4(w_ih + (gate_row0 - 4 * U) * row_bytes, s_ih + gate_row0 * S, S, p.nf4_block,
                   h_read + below_row, Hp, lane, codebook, acc_ih);
        warp_sum(acc_hh);
        if (l > 0) warp_sum(acc_ih);
#pragma unroll
        for (int g = 0; g < 4; ++g) {
          // y = Σ x·Ŵ + b (linear_nf4.cpp).
          gh[g] = acc_hh[g] + b_hh[gate_row0 + g];
          if (l > 0) gx[g] = acc_ih[g] + b_ih[gate_row0 + g];
        }
      } else {
        float acc_hh[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        float acc_ih[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        dot4_f16(w_hh + static_cast<int64_t>(gate_row0) * Hp, h_read + own_row, Hp, lane, acc_hh);
        if (l > 0)
          dot4_f16(w_ih + static_cast<int64_t>(gate_row0 - 4 * U) * Hp, h_read + below_row, Hp,
                   lane, acc_ih);
        warp_sum(acc_hh);
        if (l > 0) warp_sum(acc_ih);
#pragma unroll
        for (int g = 0; g < 4; ++g) {
          // y = half(Σ half(x)·W + b) for each projection (linear_half.cpp).
          gh[g] = round_to_half(acc_hh[g] + b_hh[gate_row0 + g]);
          if (l > 0) gx[g] = round_to_half(acc_ih[g] + b_ih[gate_row0 + g]);
        }
      }

      c_prev = __shfl_sync(kFullMask, c_prev, 0);
      const float i_gate = sigmoid(gx[0] + gh[0]);
      const float f_gate = sigmoid(gx[1] + gh[1]);
      const float g_gate = tanhf(gx[2] + gh[2]);
      const float o_gate = sigmoid(gx[3] + gh[3]);
      const float c_new = f_gate * c_prev + i_gate * g_gate;
      const float h_new = o_gate * tanhf(c_new);

      if (lane == 0) {
        c_state[(l * R + b) * U + u] = c_new;
        if (l == L - 1) p.y[(batch_row * T + t) * H + j] = h_new;
        if (t == T - 1) {
          const int64_t state = (static_cast<int64_t>(l) * p.B + batch_row) * H + j;
          if (p.h_n != nullptr) p.h_n[state] = h_new;
          if (p.c_n != nullptr) p.c_n[state] = c_new;
        }
      }
      // Push h_{l,t} into every CTA's h row (lane r stores into CTA r), in the form the products
      // read: f16-rounded for fp16, exact otherwise (int8: quantized by the reader).
      const float pushed = kFp16 ? round_to_half(h_new) : h_new;
      float* target = h_full + write_offset + own_row + j;
      if (cs > 1) {
        if (lane < cs) *cg::this_cluster().map_shared_rank(target, lane) = pushed;
      } else if (lane == 0) {
        *target = pushed;
      }
    }
    step_barrier(cs);
  }
}

// ---------------------------------------------------------------------------------------------------
// Launch helpers.

template <LstmPrecision kPrecision>
cudaLaunchConfig_t recurrence_config(const LstmLaunchShape& shape, int num_clusters,
                                     cudaStream_t stream, cudaLaunchAttribute* attribute) {
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(static_cast<unsigned>(num_clusters * shape.cluster_size), 1, 1);
  config.blockDim = dim3(kLstmThreadsPerBlock, 1, 1);
  config.dynamicSmemBytes = static_cast<std::size_t>(shape.smem.total_bytes);
  config.stream = stream;
  attribute->id = cudaLaunchAttributeClusterDimension;
  attribute->val.clusterDim.x = static_cast<unsigned>(shape.cluster_size);
  attribute->val.clusterDim.y = 1;
  attribute->val.clusterDim.z = 1;
  config.attrs = attribute;
  config.numAttrs = shape.cluster_size > 1 ? 1 : 0;
  return config;
}

// The dynamic shared memory limit is a property of the kernel function, shared by every plan of
// its precision, and plans may run on several threads at once: it is always raised to the
// device's opt-in maximum (one value for everyone, so no plan can lower it under another), at
// prepare and again at each launch (a cheap host-side call; the device may have been reset).
template <typename Kernel>
Status allow_max_shared_memory(Kernel kernel) {
  int device = 0, optin = 0;
  QRT_CUDA_RETURN_IF_ERROR(cudaGetDevice(&device));
  QRT_CUDA_RETURN_IF_ERROR(
      cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  QRT_CUDA_RETURN_IF_ERROR(
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, optin));
  return Status::ok();
}

template <LstmPrecision kPrecision>
Result<int> max_active_clusters_typed(const LstmLaunchShape& shape) {
  const auto kernel = lstm_recurrence_kernel<kPrecision>;
  QRT_RETURN_IF_ERROR(allow_max_shared_memory(kernel));
  int clusters = 0;
  if (shape.cluster_size == 1) {
    // Without a cluster: resident blocks per SM times SMs.
    int device = 0, per_sm = 0, sms = 0;
    QRT_CUDA_RETURN_IF_ERROR(cudaGetDevice(&device));
    QRT_CUDA_RETURN_IF_ERROR(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    QRT_CUDA_RETURN_IF_ERROR(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
        &per_sm, kernel, kLstmThreadsPerBlock, static_cast<std::size_t>(shape.smem.total_bytes)));
    clusters = per_sm * sms;
  } else {
    cudaLaunchAttribute attribute{};
    const cudaLaunchConfig_t config = recurrence_config<kPrecision>(shape, 1, nullptr, &attribute);
    QRT_CUDA_RETURN_IF_ERROR(cudaOccupancyMaxActiveClusters(&clusters, kernel, &config));
  }
  if (clusters < 1)
    return unsupported(std::string("LSTM (") + lstm_precision_name(kPrecision) +
                       "): a cluster of " + std::to_string(shape.cluster_size) + " CTAs with " +
                       std::to_string(shape.smem.total_bytes) +
                       " bytes of shared memory each cannot be resident on this device");
  return clusters;
}

template <LstmPrecision kPrecision>
Status launch_typed(const InputProjectionParams& input, const RecurrenceParams& recurrence,
                    const LstmLaunchShape& shape, int num_clusters, cudaStream_t stream) {
  const std::size_t input_smem = static_cast<std::size_t>(input.C) * (sizeof(float) + 4);
  lstm_input_projection_kernel<kPrecision>
      <<<static_cast<unsigned>(input.rows), kInputProjectionThreads, input_smem, stream>>>(input);
  QRT_CUDA_RETURN_IF_ERROR(cudaGetLastError());

  const auto kernel = lstm_recurrence_kernel<kPrecision>;
  QRT_RETURN_IF_ERROR(allow_max_shared_memory(kernel));
  cudaLaunchAttribute attribute{};
  const cudaLaunchConfig_t config =
      recurrence_config<kPrecision>(shape, num_clusters, stream, &attribute);
  QRT_CUDA_RETURN_IF_ERROR(cudaLaunchKernelEx(&config, kernel, recurrence));
  return Status::ok();
}

bool aligned_to(const void* pointer, std::size_t alignment) {
  return reinterpret_cast<std::uintptr_t>(pointer) % alignment == 0;
}

}  // namespace

namespace lstm_detail {

Result<int> max_active_clusters(LstmPrecision precision, const LstmLaunchShape& shape) {
  switch (precision) {
    case LstmPrecision::kFp16:
      return max_active_clusters_typed<LstmPrecision::kFp16>(shape);
    case LstmPrecision::kInt8Dynamic:
      return max_active_clusters_typed<LstmPrecision::kInt8Dynamic>(shape);
    case LstmPrecision::kInt8Static:
      return max_active_clusters_typed<LstmPrecision::kInt8Static>(shape);
    case LstmPrecision::kNf4:
      return max_active_clusters_typed<LstmPrecision::kNf4>(shape);
  }
  return invalid_argument("LSTM: unknown precision");
}

}  // namespace lstm_detail

Status launch_lstm(const LstmPlan& plan, const LstmRunArgs& args, cudaStream_t stream) {
  const LstmDesc& desc = plan.desc_;
  const LstmLaunchShape& shape = plan.shape_;
  const std::string where =
      std::string("launch_lstm (") + lstm_precision_name(desc.precision) + "): ";
  if (plan.blocks_.data() == nullptr) return invalid_argument(where + "the plan is not prepared");
  if (args.batch < 1)
    return invalid_argument(where + "batch " + std::to_string(args.batch) + " must be >= 1");
  if (args.steps < 1)
    return invalid_argument(where + "steps " + std::to_string(args.steps) + " must be >= 1");
  const int64_t H = desc.hidden_size;
  // Every kernel index stays in int32 where it is int (batch rows, steps) and int64 elsewhere;
  // B·T blocks of the input projection must fit a grid.
  constexpr int64_t kMaxRows = std::numeric_limits<int32_t>::max();
  if (args.batch > kMaxRows / args.steps || args.batch * args.steps > kMaxRows / (4 * H))
    return invalid_argument(where + "batch " + std::to_string(args.batch) + " x steps " +
                            std::to_string(args.steps) + " is too large");
  if (args.x == nullptr) return invalid_argument(where + "x is null");
  if (args.y == nullptr) return invalid_argument(where + "y is null");
  if (static_cast<const void*>(args.y) == static_cast<const void*>(args.x))
    return invalid_argument(where + "y and x are the same buffer");
  for (const auto& [pointer, name] : {std::pair<const void*, const char*>{args.x, "x"},
                                      {args.h0, "h0"},
                                      {args.c0, "c0"},
                                      {args.y, "y"},
                                      {args.h_n, "h_n"},
                                      {args.c_n, "c_n"}}) {
    if (pointer != nullptr && !aligned_to(pointer, alignof(float)))
      return invalid_argument(where + name + " is not 4-byte aligned");
  }
  const std::size_t needed = plan.workspace_bytes(args.batch, args.steps);
  if (args.workspace == nullptr || args.workspace_bytes < needed)
    return invalid_argument(where + "workspace of " + std::to_string(args.workspace_bytes) +
                            " bytes" + (args.workspace == nullptr ? " (null)" : "") + ", need " +
                            std::to_string(needed));
  if (!aligned_to(args.workspace, 16))
    return invalid_argument(where + "workspace is not 16-byte aligned");

  InputProjectionParams input;
  input.w = plan.input_w_.data();
  input.bias = plan.input_aux_.as<float>();
  input.w_scales = plan.input_aux_.as<float>() + 4 * H;
  input.x = args.x;
  input.x_proj = static_cast<float*>(args.workspace);
  input.rows = args.batch * args.steps;
  input.C = static_cast<int32_t>(desc.input_size);
  input.N = static_cast<int32_t>(4 * H);
  input.quant = desc.input_quant;
  input.nf4_block = static_cast<int32_t>(desc.nf4_block_size);

  RecurrenceParams recurrence;
  recurrence.blocks = plan.blocks_.as<unsigned char>();
  recurrence.x_proj = input.x_proj;
  recurrence.h0 = args.h0;
  recurrence.c0 = args.c0;
  recurrence.y = args.y;
  recurrence.h_n = args.h_n;
  recurrence.c_n = args.c_n;
  recurrence.B = static_cast<int32_t>(args.batch);
  recurrence.T = static_cast<int32_t>(args.steps);
  recurrence.H = static_cast<int32_t>(H);
  recurrence.L = static_cast<int32_t>(desc.num_layers);
  recurrence.Hp = static_cast<int32_t>(shape.padded_hidden);
  recurrence.units_per_cta = static_cast<int32_t>(shape.units_per_cta);
  // Rows per cluster: fixed when configured; adaptive, one row per cluster while the batch's
  // clusters can all be resident at once, then as few rows per cluster as keep them resident
  // (more clusters than fit would run in waves, each wave paying the whole sequence again).
  int rows_per_cluster = shape.rows_per_cluster;
  if (shape.adaptive_rows) {
    const int64_t resident = std::max(1, shape.max_active_clusters);
    rows_per_cluster = static_cast<int>(
        std::clamp<int64_t>((args.batch + resident - 1) / resident, 1, shape.rows_per_cluster));
  }
  recurrence.rows_per_cluster = rows_per_cluster;
  recurrence.row_capacity = shape.rows_per_cluster;
  recurrence.cluster_size = shape.cluster_size;
  recurrence.scales_per_row = static_cast<int32_t>(shape.scales_per_row);
  recurrence.nf4_block = static_cast<int32_t>(desc.nf4_block_size);
  recurrence.smem = shape.smem;
  const int num_clusters = static_cast<int>((args.batch + rows_per_cluster - 1) / rows_per_cluster);

  switch (desc.precision) {
    case LstmPrecision::kFp16:
      return launch_typed<LstmPrecision::kFp16>(input, recurrence, shape, num_clusters, stream);
    case LstmPrecision::kInt8Dynamic:
      return launch_typed<LstmPrecision::kInt8Dynamic>(input, recurrence, shape, num_clusters,
                                                       stream);
    case LstmPrecision::kInt8Static:
      return launch_typed<LstmPrecision::kInt8Static>(input, recurrence, shape, num_clusters,
                                                      stream);
    case LstmPrecision::kNf4:
      return launch_typed<LstmPrecision::kNf4>(input, recurrence, shape, num_clusters, stream);
  }
  return invalid_argument(where + "unknown precision");
}

}  // namespace qrt::cuda
