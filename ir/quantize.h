// Quantization primitives (definitions: the quantization design notes, section 1 and 5). Users call
// them directly; the passes (ir/passes/) and the reference kernels (ops/) are built on them, so
// there is exactly one implementation of each formula.
//
// Rounding is round-half-to-even (std::nearbyint in the default rounding mode). An all-zero slice
// gets scale 1 (q = 0, exact). Every function validates its arguments and returns a Status naming
// the problem (empty input, NaN/inf values, bits out of range, axis out of range, block size that
// does not divide the row, ...).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ir/quant_params.h"
#include "ir/shape.h"
#include "ir/status.h"

namespace qrt::ir {

// Row-major float tensor used by the primitives (a view; data.size() == numel(shape)).
struct FloatTensorView {
  std::span<const float> data;
  Shape shape;
};

enum class Granularity {
  kPerTensor,   // one scale
  kPerChannel,  // one scale per slice along `axis`
  kPerBlock,    // one scale per `block_size` consecutive elements of the last dimension
  kPerRow,      // one scale per row of the last dimension (dynamic activations); = per channel on
                // axis rank-2 of a matrix
};

// QuantParams::scheme of a result: per tensor -> k{Symmetric,Affine}PerTensor; per channel ->
// k{Symmetric,Affine}PerChannel on `axis`; per row -> the per-channel scheme with axis rank-2 (one
// scale per row, in row-major row order); per block -> the per-channel scheme with axis rank-1 and
// block_size set (one scale per block, in row-major order; no on-disk scheme of its own, so
// QuantizedTensor::granularity says how to read the scales).
struct QuantizeSpec {
  int bits = 8;  // 2..8
  Granularity granularity = Granularity::kPerTensor;
  int axis = 0;            // kPerChannel
  int64_t block_size = 0;  // kPerBlock
};

// Integer codes plus the parameters to map them back (codes stored in int32 for bits <= 8 so the
// same type serves int8 and uint8 ranges; `to_int8`/`to_uint8` narrow them for storage).
struct QuantizedTensor {
  std::vector<int32_t> codes;
  Shape shape;
  QuantParams params;  // scheme, axis, scales, zero_points, block_size
  int bits = 8;
  Granularity granularity = Granularity::kPerTensor;
};

// Symmetric: qmax = 2^(b-1) - 1, s = max|t| / qmax, q = clamp(round(t / s), -qmax, qmax).
Result<QuantizedTensor> quantize_symmetric(const FloatTensorView& t, const QuantizeSpec& spec);
// Affine: range widened to include 0, s = (max - min) / (qmax - qmin),
// z = clamp(round(qmin - min / s), qmin, qmax), q = clamp(round(t / s) + z, qmin, qmax).
// `unsigned_range`: [0, 2^b - 1] (uint8 for b = 8), else [-2^(b-1), 2^(b-1) - 1].
Result<QuantizedTensor> quantize_affine(const FloatTensorView& t, const QuantizeSpec& spec,
                                        bool unsigned_range);
// t̂ = s·(q - z) with the scale/zero point of each element's slice.
Result<std::vector<float>> dequantize(const QuantizedTensor& q);
// Narrow the codes for storage; fail (naming the first offending element) when a code is outside
// [-128, 127] resp. [0, 255] (e.g. an unsigned-range result narrowed to int8, which would wrap).
Result<std::vector<int8_t>> to_int8(const QuantizedTensor& q);
Result<std::vector<uint8_t>> to_uint8(const QuantizedTensor& q);

// Linear weight [N, K] -> int8 symmetric per output channel (axis 0), the form every int8 weight
// path stores (QuantParams kSymmetricPerChannel).
struct Int8Weight {
  std::vector<int8_t> codes;  // [N, K] row-major
  QuantParams params;
};
Result<Int8Weight> quantize_weight_per_channel(const FloatTensorView& w);

// NF4 (QLoRA): blocks of `block_size` along each row of W [N, K] (K % block_size == 0), absmax per
// block, nearest codebook value (ties to the lower index), packed two per byte (high nibble first);
// with double_quant the absmax values are quantized as the design notes describe. An all-zero block
// stores codes of 0.0 (exact under any absmax) and, without double_quant, absmax 1. With
// double_quant the encoder chooses absmax codes whose decoded value code·group_scale + offset is
// positive (with or without a fused multiply-add), so decoders need no special case; an all-zero
// tensor gets offset 1, codes 0, group scales 1.
struct Nf4Weight {
  std::vector<uint8_t> packed;  // N*K/2 bytes
  QuantParams params;           // kNF4Block, block_size, scales (absmax) or double-quant arrays
};
Result<Nf4Weight> quantize_nf4(const FloatTensorView& w, int64_t block_size = 64,
                               bool double_quant = true);
// The absmax of every block, decoded from double quantization when used.
std::vector<float> nf4_block_absmax(const QuantParams& params);
// Dequantized weight [N, K] (floats) from the packed codes.
Result<std::vector<float>> dequantize_nf4(std::span<const uint8_t> packed, const Shape& shape,
                                          const QuantParams& params);
// Index of the nearest NF4 codebook value to x in [-1, 1] (ties to the lower index).
uint8_t nf4_encode(float x);

}  // namespace qrt::ir
