// The vector kernel behind gemm_s8s8_s32_packed (ops/int8_gemm.h) and the layout constants it
// shares with the packing code.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ops/int8_gemm.h"

namespace qrt::ops {

inline constexpr std::size_t kPackedColumns = 16;  // output columns per block: one zmm of int32
inline constexpr std::size_t kPackedK = 4;         // k-values per int32 lane (one vpdpbusd step)
inline constexpr std::size_t kPackedBlocksPerTile = 4;  // blocks one register tile covers

// Output columns [block_begin·16, min(block_end·16, N)) for all M rows. Only call when the CPU
// has AVX-512 VNNI (and BW/VL).
void gemm_s8s8_s32_packed_columns_avx512vnni(const int8_t* a, std::size_t lda,
                                             const PackedInt8Weights& b, int32_t* acc,
                                             std::size_t ldc, std::size_t m,
                                             std::size_t block_begin, std::size_t block_end);

// The same over the packed layout with plain int32 loops (any CPU).
void gemm_s8s8_s32_packed_columns_portable(const int8_t* a, std::size_t lda,
                                           const PackedInt8Weights& b, int32_t* acc,
                                           std::size_t ldc, std::size_t m, std::size_t block_begin,
                                           std::size_t block_end);

}  // namespace qrt::ops
