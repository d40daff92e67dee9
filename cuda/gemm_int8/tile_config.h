// The compiled tile configurations of the int8 GEMM and the host-side queries about them
// (plain C++: no CUDA needed to ask whether a problem can run).
//
// A configuration is one instantiation of the kernel template in gemm_int8.cu: a thread block
// computes a block_m × block_n tile of the output, walking K in steps of block_k bytes through a
// `stages`-deep cp.async shared-memory pipeline; its warps_m × warps_n warps each own a
// (block_m / warps_m) × (block_n / warps_n) sub-tile computed with mma.sync m16n8k32 (s8·s8 → s32).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>

#include "cuda/gemm_int8/epilogue.h"
#include "ir/status.h"

namespace qrt::cuda::gemm_int8 {

struct TileConfig {
  int block_m;
  int block_n;
  int block_k;  // bytes (= int8 elements) of K per pipeline stage: 64 or 128
  int warps_m;
  int warps_n;
  int stages;
  const char* name;

  constexpr int threads() const { return warps_m * warps_n * 32; }
  // A and B tiles of every stage: (block_m + block_n)·block_k bytes each.
  constexpr int shared_memory_bytes() const { return (block_m + block_n) * block_k * stages; }
};

// Largest tiles first. The kernel template is instantiated for exactly these (gemm_int8.cu
// static_asserts that its table matches this one). Config 0 is CUTLASS's default for int8 on
// sm_80+ (128×256×128, 64×64 warp tiles, 3 stages: 144 KB of shared memory); config 1 is the same
// tile with half the K per stage (twice the barriers, half the shared memory). Warp tiles of 64×64
// (configs 0-2) keep 128 int32 accumulators per thread; the smaller tiles fill the 132 SMs of an
// H100 when M·N is small. select_tile_config never picks config 1 (config 0 has the same tile
// count); the benchmark times both.
inline constexpr TileConfig kTileConfigs[] = {
    {128, 256, 128, 2, 4, 3, "128x256x128_w2x4_s3"}, {128, 256, 64, 2, 4, 3, "128x256x64_w2x4_s3"},
    {128, 128, 64, 2, 2, 4, "128x128x64_w2x2_s4"},   {64, 128, 64, 2, 2, 4, "64x128x64_w2x2_s4"},
    {64, 64, 64, 2, 2, 4, "64x64x64_w2x2_s4"},
};
inline constexpr int kNumTileConfigs = static_cast<int>(std::size(kTileConfigs));

// K bound for exact int32 accumulation: |a·b| <= 128·128 = 2^14 per product, so K < 2^17 keeps
// |acc| < 2^31 (K = 2^17 with every product (-128)·(-128) would reach 2^31 and wrap). The largest
// multiple of 16 below 2^17.
inline constexpr int64_t kMaxK = (int64_t{1} << 17) - 16;
// Rows of A and B are moved in 16-byte cp.async pieces, so K must be a multiple of 16.
inline constexpr int64_t kKAlignment = 16;

// Whether configuration `config` (an index into kTileConfigs) can compute an M×N×K product with
// epilogue `epilogue`. On failure the message says what is wrong and how to fix it, e.g.
// "K = 100 is not a multiple of 16 (rows are read in 16-byte pieces; pad K with zeros)".
// M == 0 or N == 0 is a valid empty problem.
Status can_implement(int64_t m, int64_t n, int64_t k, int config, const EpilogueSpec& epilogue);

// Device workspace the launcher needs for this problem. The current kernels need none (no split-K
// yet): always 0, kept so callers size and pass a workspace from the start.
std::size_t workspace_size(int64_t m, int64_t n, int64_t k, int config);

// The configuration the launcher picks when the caller passes kAutoConfig: the largest tile whose
// tile count fills every multiprocessor at least once (fewer, larger tiles re-read A and B less),
// else the smallest tile (most parallelism).
inline constexpr int kAutoConfig = -1;
int select_tile_config(int64_t m, int64_t n, int64_t k, int multiprocessor_count);

// Number of output tiles of `config` for an M×N output.
int64_t tile_count(int64_t m, int64_t n, int config);

}  // namespace qrt::cuda::gemm_int8
