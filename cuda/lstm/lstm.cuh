// Multi-layer LSTM on the GPU in one persistent launch for the whole sequence (PyTorch nn.LSTM,
// batch_first, gates i, f, g, o; the semantics of ops/lstm.h and, per precision, of
// ops/quantized/lstm_quantized.cpp).
//
// How it runs (details in lstm_kernels.cu):
//  - Layer 0's input projection x_t·W_ih0ᵀ + b_ih0 for all B·T rows is one small kernel before the
//    recurrence (it depends on no state), written to the workspace.
//  - The recurrence is one launch. A thread-block cluster of `cluster_size` CTAs serves a few
//    batch rows; batch rows are independent, so larger batches use more clusters. Each CTA owns a
//    contiguous slice of the hidden units of EVERY layer (all four gate rows of each unit, so the
//    cell update needs no other CTA) and keeps that slice of W_hh (and of W_ih for layers > 0)
//    resident in shared memory for the whole sequence.
//  - Layers run as a wavefront: in super-step s, layer l computes time step t = s - l. Every input
//    it needs (h_{l, t-1} and h_{l-1, t}) was produced in super-step s - 1, so one cluster barrier
//    per super-step orders everything: T + L - 1 barriers in all instead of T·L kernel launches.
//  - Each CTA pushes its new h slice into every CTA's shared memory (distributed shared memory),
//    double-buffered by step parity, so each step reads h locally.
//  - int8: each CTA quantizes the h rows it reads at the start of the step (dynamic: per-row
//    absmax; static: scale 1/127); the products are int8 x int8 -> int32 (dp4a), exactly the
//    integer sums of the CPU reference. NF4: codes and block absmax on chip, dequantized in
//    registers.
//
// This header is plain C++ (no CUDA keywords): host code compiled by the C++ compiler includes it.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "cuda/device_buffer.h"
#include "ir/status.h"

namespace qrt::cuda {

// The arithmetic of the gate projections (docs/quantization.md; the CPU kernels in ops/quantized/):
//  kFp16:        y = half( Σ half(x)·W + b ), W stored f16, f32 accumulation (linear_half.cpp);
//  kInt8Dynamic: W int8 per output channel; each activation row quantized with its own
//                absmax / 127 scale; y = s_x·s_w[n]·Σ qx·qw + b (linear_int8_dynamic.cpp);
//                except, as on the CPU (ops/quantized/decoded_projection.h), a layer-0 input
//                narrower than 16 features: y = x·(s_w·qw)ᵀ + b with x unquantized;
//  kInt8Static:  as dynamic, but layer 0's x uses the calibrated scale / zero point of the node's
//                input and every hidden state uses the fixed scale 1/127 (h lies in (-1, 1))
//                (linear_int8_static.cpp, lstm_quantized.cpp).
//  kNf4:         W as 4-bit NormalFloat codes with one absmax per block of `nf4_block_size` along
//                each row (double quantization decoded by the caller, ir::nf4_block_absmax);
//                Ŵ = absmax·codebook[code] dequantized in registers, f32 activations and
//                accumulation (linear_nf4.cpp). The block size must divide C and H.
// Gate nonlinearities, the cell state and the outputs are f32 in every precision.
enum class LstmPrecision : int { kFp16, kInt8Dynamic, kInt8Static, kNf4 };
const char* lstm_precision_name(LstmPrecision precision);  // "fp16", "int8-dynamic", ...

// One layer's weights in host memory, PyTorch layout: w_ih [4H, In_l] (In_0 = input size, else H),
// w_hh [4H, H], biases [4H] (null when absent = zero). For kFp16 the *_f16 arrays (IEEE binary16
// bit patterns) are read; for the int8 precisions the *_i8 codes with one f32 scale per output
// row (symmetric, per channel along axis 0); for kNf4 the *_nf4 packed codes (ir/quant_formats.h:
// two per byte, high nibble first) with the decoded absmax of each block, [4H, In_l / block].
struct LstmLayerWeights {
  const uint16_t* w_ih_f16 = nullptr;
  const uint16_t* w_hh_f16 = nullptr;
  const int8_t* w_ih_i8 = nullptr;
  const float* w_ih_scales = nullptr;
  const int8_t* w_hh_i8 = nullptr;
  const float* w_hh_scales = nullptr;
  const uint8_t* w_ih_nf4 = nullptr;
  const float* w_ih_absmax = nullptr;
  const uint8_t* w_hh_nf4 = nullptr;
  const float* w_hh_absmax = nullptr;
  const float* b_ih = nullptr;
  const float* b_hh = nullptr;
};

// kInt8Static: how layer 0's input x is quantized, q = clamp(round(x / scale) + zero_point, qmin,
// qmax) (symmetric: zero_point 0, [-127, 127]; affine: uint8 range [0, 255]).
struct LstmInputQuant {
  float scale = 1.0f / 127.0f;
  int32_t zero_point = 0;
  int32_t qmin = -127;
  int32_t qmax = 127;
};

struct LstmDesc {
  LstmPrecision precision = LstmPrecision::kFp16;
  int64_t input_size = 0;       // C
  int64_t hidden_size = 0;      // H
  int64_t num_layers = 0;       // L
  LstmInputQuant input_quant;   // kInt8Static only
  int64_t nf4_block_size = 64;  // kNf4 only: a valid NF4 block size dividing C and H
};

// Launch shape. 0 = chosen by can_implement (see there).
struct LstmConfig {
  int cluster_size = 0;  // CTAs per cluster: 1, 2, 4 or 8
  // Batch rows one cluster serves (1..8); sizes the state buffers. 0 (auto): capacity for as many
  // rows as fit (up to 8), and each launch spreads its batch over the clusters that can be
  // resident at once (1 row per cluster while enough clusters fit, more beyond that).
  int rows_per_cluster = 0;
};

// Where everything lives in one CTA's shared memory; byte offsets, each 16-byte aligned. The
// first `weight_block_bytes` are a copy of this CTA's block of the prepared weights.
struct LstmSmemLayout {
  int64_t w_hh = 0;  // [L][units][4][Hp] weight elements (f16 bits, int8 or NF4 nibbles)
  int64_t w_ih = 0;  // [L-1][units][4][Hp] for layers 1..L-1
  int64_t b_ih = 0;  // [L][units][4] f32 (layer 0's is applied by the input projection)
  int64_t b_hh = 0;  // [L][units][4] f32
  // [L][units][4][S] f32 weight scales (layer 0's s_ih unused): int8 S = 1, one per row; NF4
  // S = H / block, the absmax of each block; none for fp16.
  int64_t s_ih = 0;
  int64_t s_hh = 0;
  int64_t weight_block_bytes = 0;
  int64_t c = 0;         // [L][rows][units] f32 cell state of this CTA's units
  int64_t h = 0;         // [2][L][rows][Hp] f32 full hidden rows, double-buffered by step parity
  int64_t hq = 0;        // [L][rows][Hp] int8 quantized hidden rows (int8 only)
  int64_t h_scale = 0;   // [L][rows] f32 their scales (int8 only)
  int64_t codebook = 0;  // [16] f32 the NF4 codebook (NF4 only)
  int64_t total_bytes = 0;
};

// What can_implement decided.
struct LstmLaunchShape {
  int cluster_size = 0;
  int rows_per_cluster = 0;     // the state buffers' row capacity
  bool adaptive_rows = false;   // rows per cluster chosen per launch (LstmConfig auto)
  int max_active_clusters = 0;  // clusters resident at once (set by LstmPlan::prepare)
  int64_t units_per_cta = 0;    // ceil(H / cluster_size); the last CTA may own fewer
  int64_t padded_hidden = 0;    // Hp: H rounded up to 8 (one 16-byte f16 / 8-byte int8 vector)
  int64_t scales_per_row = 0;   // S above: 1 for int8, H / block for NF4, 0 for fp16
  LstmSmemLayout smem;
};

inline constexpr int kLstmThreadsPerBlock = 512;
inline constexpr int kLstmMaxClusterSize = 8;  // the portable cluster size limit
inline constexpr int kLstmMaxRowsPerCluster = 8;

// Whether the persistent kernel can run `desc` with `config` on a device offering
// `max_shared_memory_bytes` of opt-in shared memory per block (DeviceInfo::
// shared_memory_per_block_optin_bytes; 227 KB on Hopper). Pure: needs no device. Fails with
// kInvalidArgument for impossible sizes and kUnsupported, naming the size at fault, when the
// weights do not fit on chip. With cluster_size 0 it picks the smallest cluster size whose
// weight slices fit and that leaves every warp at most 2 (layer, unit) items per batch row, or
// else the largest that fits; rows_per_cluster 0 gives the largest capacity (up to 8) that fits
// beside those weights.
Result<LstmLaunchShape> lstm_can_implement(const LstmDesc& desc, const LstmConfig& config,
                                           std::size_t max_shared_memory_bytes);

struct LstmRunArgs;

// Prepared weights on the device ("prepare" step, done once): each CTA's slice of every layer
// repacked into the shared-memory layout above, plus layer 0's input weights. Move-only.
class LstmPlan {
 public:
  // Validates (lstm_can_implement against the current device, and whether a cluster of that size
  // with that much shared memory can be resident), repacks on the host and uploads.
  // `layers` holds desc.num_layers entries.
  static Result<LstmPlan> prepare(const LstmDesc& desc, std::span<const LstmLayerWeights> layers,
                                  const LstmConfig& config = {});

  const LstmDesc& desc() const { return desc_; }
  const LstmLaunchShape& shape() const { return shape_; }
  // Device scratch launch_lstm needs for `batch` x `steps` (the layer-0 input projection).
  std::size_t workspace_bytes(int64_t batch, int64_t steps) const;

  LstmPlan(LstmPlan&&) noexcept = default;
  LstmPlan& operator=(LstmPlan&&) noexcept = default;

 private:
  friend Status launch_lstm(const LstmPlan& plan, const LstmRunArgs& args, cudaStream_t stream);
  LstmPlan() = default;

  LstmDesc desc_;
  LstmLaunchShape shape_;
  DeviceBuffer blocks_;     // cluster_size blocks of shape_.smem.weight_block_bytes
  DeviceBuffer input_w_;    // layer 0: w_ih [4H, C] (f16 bits or int8), row-major
  DeviceBuffer input_aux_;  // layer 0: b_ih [4H] f32, then the w_ih scales: [4H] f32 (int8) or
                            // the block absmax [4H, C / block] f32 (NF4)
};

// Device pointers for one run. Shapes: x [B, T, C]; h0, c0, h_n, c_n [L, B, H]; y [B, T, H]; all
// f32. h0 / c0 null = zeros; h_n / c_n null = not written. y must not overlap the inputs.
struct LstmRunArgs {
  int64_t batch = 0;  // B >= 1
  int64_t steps = 0;  // T >= 1
  const float* x = nullptr;
  const float* h0 = nullptr;
  const float* c0 = nullptr;
  float* y = nullptr;
  float* h_n = nullptr;
  float* c_n = nullptr;
  void* workspace = nullptr;  // plan.workspace_bytes(B, T) bytes, 16-byte aligned
  std::size_t workspace_bytes = 0;
};

// Enqueues the input projection and the persistent recurrence on `stream` (asynchronous). Invalid
// arguments give kInvalidArgument naming the argument; launch failures kDeviceError.
Status launch_lstm(const LstmPlan& plan, const LstmRunArgs& args, cudaStream_t stream);

}  // namespace qrt::cuda
