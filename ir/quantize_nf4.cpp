// NF4 block quantization with optional double quantization (the quantization design notes,
// section 5; QLoRA, Dettmers et al. 2023).
#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "ir/quant_formats.h"
#include "ir/quantize.h"
#include "ir/quantize_internal.h"

namespace qrt::ir {
namespace {

using quantize_internal::validate_view;

// Decision thresholds between neighbouring codebook values, computed in float as
// 0.5f·(c[i] + c[i+1]). x goes to code i+1 only when it is strictly above threshold i, so a value
// exactly on a midpoint takes the lower index (as bitsandbytes' dQuantizeNF4 does).
constexpr std::array<float, 15> make_midpoints() {
  std::array<float, 15> m{};
  for (size_t i = 0; i < m.size(); ++i) m[i] = 0.5f * (kNF4Codebook[i] + kNF4Codebook[i + 1]);
  return m;
}
constexpr std::array<float, 15> kMidpoints = make_midpoints();

constexpr uint8_t kZeroCode = 7;  // kNF4Codebook[7] == 0
static_assert(kNF4Codebook[kZeroCode] == 0.0f);

// Checks the NF4 layout of `shape`: at least 1 dim, a valid block size dividing the last dim.
Status validate_nf4_layout(const Shape& shape, int64_t block_size, const std::string& what) {
  if (!is_valid_nf4_block_size(block_size))
    return invalid_argument(what + ": block size " + std::to_string(block_size) +
                            " is not a power of two in [" + std::to_string(kNF4MinBlock) + ", " +
                            std::to_string(kNF4MaxBlock) + "]");
  if (shape.empty()) return invalid_argument(what + ": an nf4 tensor needs at least 1 dim");
  if (shape.back() % block_size != 0)
    return invalid_argument(what + ": block size " + std::to_string(block_size) +
                            " does not divide the last dim " + std::to_string(shape.back()) +
                            " of " + shape_to_string(shape));
  return Status::ok();
}

// The decoded absmax of one block, exactly as nf4_block_absmax computes it.
float decode_absmax(int8_t code, float group_scale, float offset) {
  return static_cast<float>(code) * group_scale + offset;
}

// Double quantization (QLoRA): offset = mean of all block absmax values, then the centred values
// are quantized symmetric int8 per group of kNF4DoubleQuantGroup blocks, one float scale per group:
// absmax[b] ≈ codes[b]·group_scales[b / group] + offset.
//
// A decoded absmax must stay > 0 (it scales the block; the file format requires positive scales).
// Rounding can push it to <= 0 when a small absmax sits in a group with large ones, and an
// all-zero block carries no absmax at all. So the encoder picks, from the rounded code upwards, the
// first code whose decoded value is > 0 both with and without a fused multiply-add (backends may
// fuse); code 0 always qualifies because the offset is > 0. The decoder then needs no special
// case. An all-zero block takes part in the statistics with absmax 0; its elements are exactly 0
// whatever its decoded absmax. An all-zero tensor gets offset 1 (the "all-zero slice -> scale 1"
// rule), codes 0 and group scales 1.
void double_quantize(const std::vector<float>& absmax, QuantParams& params) {
  const size_t blocks = absmax.size();
  const size_t group = static_cast<size_t>(kNF4DoubleQuantGroup);
  double sum = 0.0;
  for (float a : absmax) sum += a;
  const float mean = static_cast<float>(sum / static_cast<double>(blocks));
  params.double_quant = true;
  params.group_size = kNF4DoubleQuantGroup;
  params.absmax_codes.assign(blocks, 0);
  params.group_scales.assign((blocks + group - 1) / group, 1.0f);
  if (!(mean > 0.0f)) {  // all-zero tensor (or a mean that underflowed): every absmax decodes to 1
    params.absmax_offset = 1.0f;
    return;
  }
  const float offset = mean;
  params.absmax_offset = offset;
  constexpr float kCodeMax = 127.0f;  // symmetric int8: codes in [-127, 127]
  for (size_t g = 0; g < params.group_scales.size(); ++g) {
    const size_t begin = g * group;
    const size_t end = std::min(blocks, begin + group);
    float max_centred = 0.0f;
    for (size_t b = begin; b < end; ++b)
      max_centred = std::max(max_centred, std::fabs(absmax[b] - offset));
    float scale = max_centred / kCodeMax;
    if (!(scale > 0.0f)) scale = 1.0f;  // every absmax equals the offset (or underflow)
    params.group_scales[g] = scale;
    for (size_t b = begin; b < end; ++b) {
      float code = std::clamp(std::nearbyint((absmax[b] - offset) / scale), -kCodeMax, kCodeMax);
      while (code < 0.0f && !(decode_absmax(static_cast<int8_t>(code), scale, offset) > 0.0f &&
                              std::fma(code, scale, offset) > 0.0f))
        code += 1.0f;
      params.absmax_codes[b] = static_cast<int8_t>(code);
    }
  }
}

}  // namespace

uint8_t nf4_encode(float x) {
  uint8_t code = 0;
  for (float m : kMidpoints) code += x > m ? 1 : 0;
  return code;
}

std::vector<float> nf4_block_absmax(const QuantParams& params) {
  if (!params.double_quant) return params.scales;
  // absmax[b] = absmax_codes[b]·group_scales[b / group_size] + absmax_offset. Malformed arrays
  // (a group index past group_scales) give an empty result; dequantize_nf4 reports them.
  if (params.group_size < 1) return {};
  const size_t group = static_cast<size_t>(params.group_size);
  const size_t blocks = params.absmax_codes.size();
  if (blocks > 0 && (blocks - 1) / group >= params.group_scales.size()) return {};
  std::vector<float> absmax(blocks);
  for (size_t b = 0; b < blocks; ++b)
    absmax[b] =
        decode_absmax(params.absmax_codes[b], params.group_scales[b / group], params.absmax_offset);
  return absmax;
}

Result<Nf4Weight> quantize_nf4(const FloatTensorView& w, int64_t block_size, bool double_quant) {
  const std::string what = "quantize_nf4";
  QRT_RETURN_IF_ERROR(validate_view(w, what));
  QRT_RETURN_IF_ERROR(validate_nf4_layout(w.shape, block_size, what));
  const size_t n = w.data.size();
  const size_t bs = static_cast<size_t>(block_size);
  const size_t blocks = n / bs;
  // Blocks of `block_size` consecutive elements of a row: since block_size divides the row, block b
  // is simply elements [b·bs, (b+1)·bs) of the row-major data.
  std::vector<float> absmax(blocks, 0.0f);
  for (size_t b = 0; b < blocks; ++b)
    for (size_t i = b * bs; i < (b + 1) * bs; ++i)
      absmax[b] = std::max(absmax[b], std::fabs(w.data[i]));

  Nf4Weight out;
  out.packed.assign(n / 2, 0);
  for (size_t b = 0; b < blocks; ++b) {
    // Codes come from the float absmax (as bitsandbytes does; double quantization compresses the
    // statistics afterwards). An all-zero block encodes 0 exactly with any scale.
    const float a = absmax[b];
    for (size_t i = b * bs; i < (b + 1) * bs; ++i) {
      const uint8_t code = a > 0.0f ? nf4_encode(w.data[i] / a) : kZeroCode;
      // Byte j holds element 2j in the high nibble and element 2j+1 in the low one.
      out.packed[i / 2] |= (i % 2 == 0) ? static_cast<uint8_t>(code << kNF4HighNibbleShift) : code;
    }
  }
  out.params.scheme = QuantScheme::kNF4Block;
  out.params.axis = 0;
  out.params.block_size = block_size;
  if (double_quant) {
    double_quantize(absmax, out.params);
  } else {
    for (float& a : absmax)
      if (a == 0.0f) a = 1.0f;  // all-zero block -> scale 1 (scales must be > 0)
    out.params.scales = std::move(absmax);
  }
  return out;
}

Result<std::vector<float>> dequantize_nf4(std::span<const uint8_t> packed, const Shape& shape,
                                          const QuantParams& params) {
  const std::string what = "dequantize_nf4";
  if (params.scheme != QuantScheme::kNF4Block)
    return invalid_argument(what + ": scheme is " + quant_scheme_name(params.scheme) +
                            ", expected nf4-block");
  QRT_RETURN_IF_ERROR(validate_nf4_layout(shape, params.block_size, what));
  for (int64_t d : shape)
    if (d < 0)
      return invalid_argument(what + ": shape " + shape_to_string(shape) +
                              " has a negative or dynamic dimension");
  Result<int64_t> numel_or = checked_numel(shape);
  if (!numel_or.is_ok()) return invalid_argument(what + ": " + numel_or.status().message());
  const size_t n = static_cast<size_t>(*numel_or);
  if (n == 0) return invalid_argument(what + ": empty tensor " + shape_to_string(shape));
  if (packed.size() != n / 2)
    return invalid_argument(what + ": " + std::to_string(packed.size()) +
                            " packed bytes, expected " + std::to_string(n / 2) + " for shape " +
                            shape_to_string(shape));
  const size_t bs = static_cast<size_t>(params.block_size);
  const size_t blocks = n / bs;
  if (params.double_quant) {
    if (params.absmax_codes.size() != blocks)
      return invalid_argument(what + ": " + std::to_string(params.absmax_codes.size()) +
                              " absmax codes, expected one per block (" + std::to_string(blocks) +
                              ")");
    if (params.group_size < 1)
      return invalid_argument(what + ": group size " + std::to_string(params.group_size) +
                              " must be >= 1");
    const size_t groups = (blocks + static_cast<size_t>(params.group_size) - 1) /
                          static_cast<size_t>(params.group_size);
    if (params.group_scales.size() != groups)
      return invalid_argument(what + ": " + std::to_string(params.group_scales.size()) +
                              " group scales, expected " + std::to_string(groups));
    for (size_t g = 0; g < groups; ++g)
      if (!std::isfinite(params.group_scales[g]) || params.group_scales[g] <= 0.0f)
        return invalid_argument(what + ": group scale " + std::to_string(g) + " is " +
                                std::to_string(params.group_scales[g]) +
                                ", must be finite and > 0");
    if (!std::isfinite(params.absmax_offset))
      return invalid_argument(what + ": absmax offset must be finite");
  } else if (params.scales.size() != blocks) {
    return invalid_argument(what + ": " + std::to_string(params.scales.size()) +
                            " absmax scales, expected one per block (" + std::to_string(blocks) +
                            ")");
  }
  const std::vector<float> absmax = nf4_block_absmax(params);
  for (size_t b = 0; b < blocks; ++b)
    if (!std::isfinite(absmax[b]))
      return invalid_argument(what + ": absmax of block " + std::to_string(b) + " is " +
                              std::to_string(absmax[b]) + ", must be finite");
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t byte = packed[i / 2];
    const uint8_t code = (i % 2 == 0) ? (byte >> kNF4HighNibbleShift) : (byte & 0x0F);
    out[i] = kNF4Codebook[code] * absmax[i / bs];
  }
  return out;
}

}  // namespace qrt::ir
