// LSTM host side: what fits on chip (lstm_can_implement) and the one-time repacking of the weights
// into each CTA's shared-memory block (LstmPlan::prepare). See lstm.cuh for the scheme.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "cuda/cuda_status.h"
#include "cuda/device.h"
#include "cuda/lstm/lstm.cuh"
#include "cuda/lstm/lstm_kernel_params.h"
#include "ir/quant_formats.h"

namespace qrt::cuda {

namespace {

constexpr int64_t kVectorElements = 8;  // one 16-byte f16 vector, one 8-byte int8 vector
constexpr int64_t kSmemAlign = 16;
// Bounds that keep every index of the kernels inside int32 and the input projection's shared
// row (C floats + C codes) well under 48 KB.
constexpr int64_t kMaxHidden = 4096;
constexpr int64_t kMaxInput = 4096;
constexpr int64_t kMaxLayers = 16;
// The CPU projections' kMinQuantizedK (ops/quantized/decoded_projection.h).
constexpr int64_t kMinQuantizedK = 16;
// Warps per CTA, and the (layer, unit) items per warp and batch row below which a larger cluster
// is not worth its slower barrier (performance.md: ~0.015 µs for __syncthreads, ~1 µs across a
// cluster).
constexpr int kWarpsPerBlock = kLstmThreadsPerBlock / 32;
constexpr int64_t kItemsPerWarpTarget = 2;

int64_t round_up(int64_t value, int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

bool is_int8(LstmPrecision precision) {
  return precision == LstmPrecision::kInt8Dynamic || precision == LstmPrecision::kInt8Static;
}

// Weight scales per gate row: one for int8 (per channel), one per block for NF4, none for fp16.
int64_t scales_per_row(const LstmDesc& desc) {
  if (is_int8(desc.precision)) return 1;
  if (desc.precision == LstmPrecision::kNf4) return desc.hidden_size / desc.nf4_block_size;
  return 0;
}

// Bytes of `elements` weight elements of `precision` (NF4: two per byte; always even here).
int64_t weight_bytes(LstmPrecision precision, int64_t elements) {
  return elements * lstm_detail::weight_element_bits(precision) / 8;
}

// The shared-memory layout for one CTA (lstm.cuh, LstmSmemLayout).
LstmSmemLayout layout_for(LstmPrecision precision, int64_t L, int64_t units, int64_t Hp,
                          int64_t rows, int64_t scales) {
  const bool int8 = is_int8(precision);
  LstmSmemLayout s;
  int64_t offset = 0;
  auto take = [&offset](int64_t bytes) {
    const int64_t at = offset;
    offset += round_up(bytes, kSmemAlign);
    return at;
  };
  const int64_t gate_rows = L * units * 4;
  s.w_hh = take(weight_bytes(precision, gate_rows * Hp));
  s.w_ih = take(weight_bytes(precision, (L - 1) * units * 4 * Hp));
  s.b_ih = take(gate_rows * 4);
  s.b_hh = take(gate_rows * 4);
  s.s_ih = take(gate_rows * scales * 4);
  s.s_hh = take(gate_rows * scales * 4);
  s.weight_block_bytes = offset;
  s.c = take(L * rows * units * 4);
  s.h = take(2 * L * rows * Hp * 4);
  s.hq = take(int8 ? L * rows * Hp : 0);
  s.h_scale = take(int8 ? L * rows * 4 : 0);
  s.codebook = take(precision == LstmPrecision::kNf4 ? 16 * 4 : 0);
  s.total_bytes = offset;
  return s;
}

LstmLaunchShape shape_for(const LstmDesc& desc, int cluster_size, int rows) {
  LstmLaunchShape shape;
  shape.cluster_size = cluster_size;
  shape.rows_per_cluster = rows;
  shape.units_per_cta = (desc.hidden_size + cluster_size - 1) / cluster_size;
  shape.padded_hidden = round_up(desc.hidden_size, kVectorElements);
  shape.scales_per_row = scales_per_row(desc);
  shape.smem = layout_for(desc.precision, desc.num_layers, shape.units_per_cta, shape.padded_hidden,
                          rows, shape.scales_per_row);
  return shape;
}

Status check_desc(const LstmDesc& desc) {
  const int raw = static_cast<int>(desc.precision);
  if (raw < 0 || raw > static_cast<int>(LstmPrecision::kNf4))
    return invalid_argument("LSTM: unknown precision " + std::to_string(raw));
  const std::string where = std::string("LSTM (") + lstm_precision_name(desc.precision) + "): ";
  if (desc.input_size < 1 || desc.input_size > kMaxInput)
    return invalid_argument(where + "input_size " + std::to_string(desc.input_size) +
                            " must be in [1, " + std::to_string(kMaxInput) + "]");
  if (desc.hidden_size < 1 || desc.hidden_size > kMaxHidden)
    return invalid_argument(where + "hidden_size " + std::to_string(desc.hidden_size) +
                            " must be in [1, " + std::to_string(kMaxHidden) + "]");
  if (desc.num_layers < 1 || desc.num_layers > kMaxLayers)
    return invalid_argument(where + "num_layers " + std::to_string(desc.num_layers) +
                            " must be in [1, " + std::to_string(kMaxLayers) + "]");
  if (desc.precision == LstmPrecision::kInt8Dynamic && desc.hidden_size < kMinQuantizedK)
    return unsupported(where + "hidden_size " + std::to_string(desc.hidden_size) + " < " +
                       std::to_string(kMinQuantizedK) +
                       ": the CPU reference runs int8-dynamic reductions that short on decoded f32 "
                       "weights (ops/quantized/decoded_projection.h), a path this kernel's "
                       "recurrence does not have; use fp16");
  if (desc.precision == LstmPrecision::kNf4) {
    const int64_t block = desc.nf4_block_size;
    if (!ir::is_valid_nf4_block_size(block))
      return invalid_argument(where + "NF4 block size " + std::to_string(block) +
                              " is not a power of two in [" + std::to_string(ir::kNF4MinBlock) +
                              ", " + std::to_string(ir::kNF4MaxBlock) + "]");
    if (desc.input_size % block != 0 || desc.hidden_size % block != 0)
      return invalid_argument(where + "NF4 block size " + std::to_string(block) +
                              " does not divide input_size " + std::to_string(desc.input_size) +
                              " and hidden_size " + std::to_string(desc.hidden_size));
  }
  if (desc.precision == LstmPrecision::kInt8Static) {
    const LstmInputQuant& q = desc.input_quant;
    if (!std::isfinite(q.scale) || !(q.scale > 0.0f))
      return invalid_argument(where + "input scale " + std::to_string(q.scale) +
                              " must be finite and > 0");
    if (q.qmin >= q.qmax || q.qmin < -128 || q.qmax > 255)
      return invalid_argument(where + "input range [" + std::to_string(q.qmin) + ", " +
                              std::to_string(q.qmax) + "] is not an int8 or uint8 range");
    if (q.zero_point < q.qmin || q.zero_point > q.qmax)
      return invalid_argument(where + "input zero point " + std::to_string(q.zero_point) +
                              " lies outside [" + std::to_string(q.qmin) + ", " +
                              std::to_string(q.qmax) + "]");
  }
  return Status::ok();
}

}  // namespace

const char* lstm_precision_name(LstmPrecision precision) {
  switch (precision) {
    case LstmPrecision::kFp16:
      return "fp16";
    case LstmPrecision::kInt8Dynamic:
      return "int8-dynamic";
    case LstmPrecision::kInt8Static:
      return "int8-static";
    case LstmPrecision::kNf4:
      return "nf4";
  }
  return "unknown";
}

Result<LstmLaunchShape> lstm_can_implement(const LstmDesc& desc, const LstmConfig& config,
                                           std::size_t max_shared_memory_bytes) {
  QRT_RETURN_IF_ERROR(check_desc(desc));
  const std::string where = std::string("LSTM (") + lstm_precision_name(desc.precision) +
                            ", H = " + std::to_string(desc.hidden_size) +
                            ", L = " + std::to_string(desc.num_layers) + "): ";
  const bool adaptive = config.rows_per_cluster == 0;
  const int rows = adaptive ? 1 : config.rows_per_cluster;
  if (rows < 1 || rows > kLstmMaxRowsPerCluster)
    return invalid_argument(where + "rows_per_cluster " + std::to_string(config.rows_per_cluster) +
                            " must be 0 (auto) or in [1, " +
                            std::to_string(kLstmMaxRowsPerCluster) + "]");
  const auto budget = static_cast<int64_t>(max_shared_memory_bytes);
  // With adaptive rows, the chosen (fitting) shape grows its row capacity while it still fits.
  const auto widen_rows = [&](LstmLaunchShape shape) {
    if (!adaptive) return shape;
    shape.adaptive_rows = true;
    for (int r = 2; r <= kLstmMaxRowsPerCluster; ++r) {
      LstmLaunchShape wider = shape_for(desc, shape.cluster_size, r);
      if (wider.smem.total_bytes > budget) break;
      wider.adaptive_rows = true;
      shape = wider;
    }
    return shape;
  };
  if (config.cluster_size != 0) {
    const int cs = config.cluster_size;
    if (cs != 1 && cs != 2 && cs != 4 && cs != 8)
      return invalid_argument(where + "cluster_size " + std::to_string(cs) +
                              " must be 0 (auto), 1, 2, 4 or 8");
    if (cs > desc.hidden_size)
      return invalid_argument(where + "cluster_size " + std::to_string(cs) +
                              " exceeds hidden_size: some CTAs would own no hidden unit");
    LstmLaunchShape shape = shape_for(desc, cs, rows);
    if (shape.smem.total_bytes > budget)
      return unsupported(
          where + "a cluster of " + std::to_string(cs) + " CTA(s) needs " +
          std::to_string(shape.smem.total_bytes) + " bytes of shared memory per CTA (weights " +
          std::to_string(shape.smem.weight_block_bytes) + ") but the device offers " +
          std::to_string(budget) + "; use a larger cluster or fewer rows per cluster");
    return widen_rows(shape);
  }
  // Auto: the smallest cluster that fits and keeps each warp's share of the work small.
  std::optional<LstmLaunchShape> largest_fitting;
  for (int cs = 1; cs <= kLstmMaxClusterSize && cs <= desc.hidden_size; cs *= 2) {
    LstmLaunchShape shape = shape_for(desc, cs, rows);
    if (shape.smem.total_bytes > budget) continue;
    if (desc.num_layers * shape.units_per_cta <= kItemsPerWarpTarget * kWarpsPerBlock)
      return widen_rows(shape);
    largest_fitting = shape;
  }
  if (largest_fitting) return widen_rows(*largest_fitting);
  const int widest = static_cast<int>(std::min<int64_t>(kLstmMaxClusterSize, desc.hidden_size));
  const LstmLaunchShape widest_shape = shape_for(desc, widest, rows);
  return unsupported(
      where + "the weights do not fit on chip: even a cluster of " + std::to_string(widest) +
      " CTAs needs " + std::to_string(widest_shape.smem.total_bytes) +
      " bytes of shared memory per CTA, the device offers " + std::to_string(budget));
}

std::size_t LstmPlan::workspace_bytes(int64_t batch, int64_t steps) const {
  if (batch < 1 || steps < 1) return 0;
  return static_cast<std::size_t>(batch * steps * 4 * desc_.hidden_size) * sizeof(float);
}

namespace {

// Checks one layer's host arrays for `precision`; `what` is "layer 1".
Status check_layer(const LstmDesc& desc, const LstmLayerWeights& w, int64_t layer) {
  const std::string where = std::string("LSTM (") + lstm_precision_name(desc.precision) +
                            ") layer " + std::to_string(layer) + ": ";
  const int64_t N = 4 * desc.hidden_size;
  if (desc.precision == LstmPrecision::kFp16) {
    if (w.w_ih_f16 == nullptr) return invalid_argument(where + "w_ih_f16 is null");
    if (w.w_hh_f16 == nullptr) return invalid_argument(where + "w_hh_f16 is null");
    return Status::ok();
  }
  if (desc.precision == LstmPrecision::kNf4) {
    if (w.w_ih_nf4 == nullptr) return invalid_argument(where + "w_ih_nf4 is null");
    if (w.w_hh_nf4 == nullptr) return invalid_argument(where + "w_hh_nf4 is null");
    if (w.w_ih_absmax == nullptr) return invalid_argument(where + "w_ih_absmax is null");
    if (w.w_hh_absmax == nullptr) return invalid_argument(where + "w_hh_absmax is null");
    const int64_t in = layer == 0 ? desc.input_size : desc.hidden_size;
    const int64_t ih_blocks = N * in / desc.nf4_block_size;
    const int64_t hh_blocks = N * desc.hidden_size / desc.nf4_block_size;
    for (const auto& [absmax, count, name] :
         {std::tuple{w.w_ih_absmax, ih_blocks, "w_ih_absmax"},
          std::tuple{w.w_hh_absmax, hh_blocks, "w_hh_absmax"}}) {
      for (int64_t i = 0; i < count; ++i)
        if (!std::isfinite(absmax[i]) || absmax[i] < 0.0f)
          return invalid_argument(where + name + "[" + std::to_string(i) +
                                  "] = " + std::to_string(absmax[i]) + " must be finite and >= 0");
    }
    return Status::ok();
  }
  if (w.w_ih_i8 == nullptr) return invalid_argument(where + "w_ih_i8 is null");
  if (w.w_hh_i8 == nullptr) return invalid_argument(where + "w_hh_i8 is null");
  if (w.w_ih_scales == nullptr) return invalid_argument(where + "w_ih_scales is null");
  if (w.w_hh_scales == nullptr) return invalid_argument(where + "w_hh_scales is null");
  for (int64_t n = 0; n < N; ++n) {
    for (const auto& [scales, name] :
         {std::pair{w.w_ih_scales, "w_ih_scales"}, std::pair{w.w_hh_scales, "w_hh_scales"}}) {
      if (!std::isfinite(scales[n]) || !(scales[n] > 0.0f))
        return invalid_argument(where + name + "[" + std::to_string(n) +
                                "] = " + std::to_string(scales[n]) + " must be finite and > 0");
    }
  }
  return Status::ok();
}

}  // namespace

Result<LstmPlan> LstmPlan::prepare(const LstmDesc& desc, std::span<const LstmLayerWeights> layers,
                                   const LstmConfig& config) {
  QRT_RETURN_IF_ERROR(check_desc(desc));
  if (static_cast<int64_t>(layers.size()) != desc.num_layers)
    return invalid_argument(
        "LSTM: " + std::to_string(layers.size()) +
        " layer weight sets for num_layers = " + std::to_string(desc.num_layers));
  for (int64_t l = 0; l < desc.num_layers; ++l)
    QRT_RETURN_IF_ERROR(check_layer(desc, layers[static_cast<std::size_t>(l)], l));
  QRT_ASSIGN_OR_RETURN(const DeviceInfo device, query_current_device());
  QRT_ASSIGN_OR_RETURN(
      LstmLaunchShape shape,
      lstm_can_implement(desc, config, device.shared_memory_per_block_optin_bytes));
  QRT_ASSIGN_OR_RETURN(shape.max_active_clusters,
                       lstm_detail::max_active_clusters(desc.precision, shape));

  const int64_t H = desc.hidden_size, L = desc.num_layers, C = desc.input_size;
  const int64_t Hp = shape.padded_hidden, units = shape.units_per_cta;
  const bool int8 = is_int8(desc.precision);
  const bool nf4 = desc.precision == LstmPrecision::kNf4;
  const int64_t S = shape.scales_per_row;
  const LstmSmemLayout& s = shape.smem;
  // Bytes of one stored weight row of `in` elements, and where row n starts in a layer's matrix.
  const auto row_bytes = [&](int64_t in) { return weight_bytes(desc.precision, in); };
  const auto source_row = [&](const LstmLayerWeights& w, bool input, int64_t n,
                              int64_t in) -> const unsigned char* {
    const void* base = nullptr;
    switch (desc.precision) {
      case LstmPrecision::kFp16:
        base = input ? static_cast<const void*>(w.w_ih_f16) : w.w_hh_f16;
        break;
      case LstmPrecision::kNf4:
        base = input ? static_cast<const void*>(w.w_ih_nf4) : w.w_hh_nf4;
        break;
      default:
        base = input ? static_cast<const void*>(w.w_ih_i8) : w.w_hh_i8;
        break;
    }
    return static_cast<const unsigned char*>(base) + n * row_bytes(in);
  };
  // The scales of row n: S consecutive floats (int8: the row's scale; NF4: its blocks' absmax).
  const auto source_scales = [&](const LstmLayerWeights& w, bool input, int64_t n) {
    const float* base =
        nf4 ? (input ? w.w_ih_absmax : w.w_hh_absmax) : (input ? w.w_ih_scales : w.w_hh_scales);
    return base + n * S;
  };

  // Each CTA's block: its units' gate rows of every layer, zero-padded to Hp columns; rows of
  // units past H (the last CTA's short slice) stay zero and are never computed.
  std::vector<unsigned char> blocks(
      static_cast<std::size_t>(s.weight_block_bytes * shape.cluster_size), 0);
  for (int64_t rank = 0; rank < shape.cluster_size; ++rank) {
    unsigned char* block = blocks.data() + rank * s.weight_block_bytes;
    auto* b_ih = reinterpret_cast<float*>(block + s.b_ih);
    auto* b_hh = reinterpret_cast<float*>(block + s.b_hh);
    auto* s_ih = reinterpret_cast<float*>(block + s.s_ih);
    auto* s_hh = reinterpret_cast<float*>(block + s.s_hh);
    for (int64_t l = 0; l < L; ++l) {
      const LstmLayerWeights& w = layers[static_cast<std::size_t>(l)];
      for (int64_t u = 0; u < units; ++u) {
        const int64_t j = rank * units + u;  // hidden unit
        if (j >= H) break;
        for (int64_t g = 0; g < 4; ++g) {
          const int64_t n = g * H + j;                    // PyTorch gate row
          const int64_t local = (l * units + u) * 4 + g;  // row in this block
          std::memcpy(block + s.w_hh + local * row_bytes(Hp), source_row(w, false, n, H),
                      static_cast<std::size_t>(row_bytes(H)));
          if (S > 0)
            std::memcpy(s_hh + local * S, source_scales(w, false, n),
                        static_cast<std::size_t>(S) * sizeof(float));
          if (l > 0) {
            const int64_t ih_local = ((l - 1) * units + u) * 4 + g;
            std::memcpy(block + s.w_ih + ih_local * row_bytes(Hp), source_row(w, true, n, H),
                        static_cast<std::size_t>(row_bytes(H)));
            // s_ih is indexed like b_ih (all L layers; layer 0's entries unused).
            if (S > 0)
              std::memcpy(s_ih + local * S, source_scales(w, true, n),
                          static_cast<std::size_t>(S) * sizeof(float));
          }
          b_ih[local] = w.b_ih != nullptr ? w.b_ih[n] : 0.0f;
          b_hh[local] = w.b_hh != nullptr ? w.b_hh[n] : 0.0f;
        }
      }
    }
  }

  // Layer 0's input weights keep PyTorch's [4H, C] layout; aux = b_ih [4H], then the scales:
  // [4H] for int8, [4H, C / block] absmax for NF4.
  const LstmLayerWeights& first = layers[0];
  const int64_t N = 4 * H;
  const int64_t input_scales = int8 ? N : nf4 ? N * C / desc.nf4_block_size : 0;
  std::vector<float> aux(static_cast<std::size_t>(N + std::max<int64_t>(input_scales, 1)), 0.0f);
  for (int64_t n = 0; n < N; ++n) aux[n] = first.b_ih != nullptr ? first.b_ih[n] : 0.0f;
  if (input_scales > 0)
    std::memcpy(aux.data() + N, nf4 ? first.w_ih_absmax : first.w_ih_scales,
                static_cast<std::size_t>(input_scales) * sizeof(float));
  const unsigned char* input_w = source_row(first, true, 0, C);
  const auto input_w_bytes = static_cast<std::size_t>(N * row_bytes(C));

  LstmPlan plan;
  plan.desc_ = desc;
  plan.shape_ = shape;
  QRT_ASSIGN_OR_RETURN(plan.blocks_, DeviceBuffer::allocate(blocks.size()));
  QRT_ASSIGN_OR_RETURN(plan.input_w_, DeviceBuffer::allocate(input_w_bytes));
  QRT_ASSIGN_OR_RETURN(plan.input_aux_, DeviceBuffer::allocate(aux.size() * sizeof(float)));
  QRT_CUDA_RETURN_IF_ERROR(
      cudaMemcpy(plan.blocks_.data(), blocks.data(), blocks.size(), cudaMemcpyHostToDevice));
  QRT_CUDA_RETURN_IF_ERROR(
      cudaMemcpy(plan.input_w_.data(), input_w, input_w_bytes, cudaMemcpyHostToDevice));
  QRT_CUDA_RETURN_IF_ERROR(cudaMemcpy(plan.input_aux_.data(), aux.data(),
                                      aux.size() * sizeof(float), cudaMemcpyHostToDevice));
  return plan;
}

}  // namespace qrt::cuda
