// Quantization parameters a tensor may carry (definitions: docs/quantization.md).
// The IR carries them; the passes that produce them and the kernels that consume them live
// elsewhere.
#pragma once

#include <cstdint>
#include <vector>

namespace qrt::ir {

// On-disk values (ir/schema/qrt.fbs, enum QuantScheme): append only.
enum class QuantScheme : uint8_t {
  kNone = 0,
  kSymmetricPerTensor = 1,   // int8, one scale, zero point 0
  kSymmetricPerChannel = 2,  // int8, one scale per slice along `axis` (weights: axis 0)
  kAffinePerTensor = 3,      // int8/uint8 with a zero point
  kAffinePerChannel = 4,
  kNF4Block = 5,  // 4-bit NormalFloat, one absmax per `block_size` elements of a row
};
inline constexpr int kNumQuantSchemes = 6;
const char* quant_scheme_name(QuantScheme s);

struct QuantParams {
  QuantScheme scheme = QuantScheme::kNone;
  int32_t axis = 0;
  std::vector<float> scales;  // per tensor: 1; per channel: dim(axis); NF4 without double quant:
                              // one absmax per block
  std::vector<int32_t> zero_points;  // affine schemes only, same length as scales
  int64_t block_size = 0;  // NF4: elements per block along the row (power of two, 32..4096)
  // NF4 double quantization (QLoRA): absmax[b] = absmax_codes[b] * group_scales[b / group_size] +
  // absmax_offset
  bool double_quant = false;
  std::vector<int8_t> absmax_codes;
  std::vector<float> group_scales;
  float absmax_offset = 0.0f;
  int64_t group_size = 256;

  bool operator==(const QuantParams&) const = default;
};

}  // namespace qrt::ir
