// Bit-level formats shared by every backend (header-only, usable from nvcc).
#pragma once

#include <cstdint>

namespace qrt::ir {

// NF4 codebook (QLoRA, Dettmers et al. 2023, appendix E; bitsandbytes `nf4` table). Ascending; the
// index is the 4-bit code.
inline constexpr float kNF4Codebook[16] = {-1.0f,
                                           -0.6961928009986877f,
                                           -0.5250730514526367f,
                                           -0.39491748809814453f,
                                           -0.28444138169288635f,
                                           -0.18477343022823334f,
                                           -0.09105003625154495f,
                                           0.0f,
                                           0.07958029955625534f,
                                           0.16093020141124725f,
                                           0.24611230194568634f,
                                           0.33791524171829224f,
                                           0.44070982933044434f,
                                           0.5626170039176941f,
                                           0.7229568362236023f,
                                           1.0f};

// Packing: byte j of a block holds element 2j in the high nibble and element 2j+1 in the low one.
inline constexpr int kNF4HighNibbleShift = 4;
inline constexpr int kNF4MinBlock = 32;
inline constexpr int kNF4MaxBlock = 4096;
inline constexpr int kNF4DefaultBlock = 64;
inline constexpr int kNF4DoubleQuantGroup = 256;  // blocks per int8 absmax group

constexpr bool is_valid_nf4_block_size(int64_t b) {
  return b >= kNF4MinBlock && b <= kNF4MaxBlock && (b & (b - 1)) == 0;
}
static_assert(is_valid_nf4_block_size(kNF4DefaultBlock));
static_assert(sizeof(kNF4Codebook) == 16 * sizeof(float));

}  // namespace qrt::ir
