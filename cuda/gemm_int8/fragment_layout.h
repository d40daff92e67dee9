// The index math of the int8 GEMM kernel, shared by the kernel (gemm_int8.cu) and a host-side
// simulation of it (tests/cuda/test_gemm_int8.cpp) that replays the kernel's data movement with
// the fragment layouts of the PTX ISA and checks the product, on machines without a GPU too.
// Plain C++ (usable from nvcc device code and from the C++ compiler).
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define QRT_GEMM_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define QRT_GEMM_HOST_DEVICE inline
#endif

namespace qrt::cuda::gemm_int8::layout {

inline constexpr int kPieceBytes = 16;  // one cp.async / one ldmatrix row
inline constexpr int kGroupM = 8;       // tile rows per raster group

// A stage holds block_k bytes of K per tile row: 64 or 128 (4 or 8 pieces of 16 bytes).
QRT_GEMM_HOST_DEVICE constexpr bool is_supported_block_k(int block_k) {
  return block_k == 64 || block_k == 128;
}
QRT_GEMM_HOST_DEVICE constexpr int pieces_per_row(int block_k) {
  return block_k / kPieceBytes;
}

// Shared-memory byte offset of 16-byte piece `piece` of tile row `row`. An ldmatrix phase reads
// one piece from 8 consecutive rows r0..r0+7 (r0 % 8 == 0); the XOR gives those 8 reads 8
// distinct 16-byte bank groups (conflict-free):
//   block_k = 64:  two rows share a 128-byte line; (row & 1)·4 + (piece ^ ((row >> 1) & 3))
//                  takes every value 0..7;
//   block_k = 128: each row is one line; piece ^ (row & 7) takes every value 0..7.
QRT_GEMM_HOST_DEVICE constexpr int swizzled_offset(int row, int piece, int block_k) {
  const int swizzled = block_k == 64 ? (piece ^ ((row >> 1) & 3)) : (piece ^ (row & 7));
  return row * block_k + swizzled * kPieceBytes;
}

// Copy piece p of a stage (thread + i·threads) is tile row p / pieces, piece p % pieces.
QRT_GEMM_HOST_DEVICE constexpr int copy_row(int p, int block_k) {
  return p / pieces_per_row(block_k);
}
QRT_GEMM_HOST_DEVICE constexpr int copy_piece(int p, int block_k) {
  return p % pieces_per_row(block_k);
}

// ldmatrix.x4 for the A fragment of m16 tile `i` of a warp whose tile starts at row `warp_row0`,
// k32 step `ks` (0 .. block_k/32 - 1) of the stage: lane l addresses row l % 8 of matrix l / 8, and
// matrix j covers rows (j % 2)·8 .. +7, bytes (j / 2)·16 .. +15, which gives registers a[0..3] in
// the order mma.m16n8k32 wants (rows g / g+8, k 0-15 / 16-31).
QRT_GEMM_HOST_DEVICE constexpr int a_ldmatrix_row(int warp_row0, int i, int lane) {
  return warp_row0 + i * 16 + (lane % 8) + ((lane / 8) % 2) * 8;
}
QRT_GEMM_HOST_DEVICE constexpr int a_ldmatrix_piece(int ks, int lane) {
  return ks * 2 + lane / 16;
}

// ldmatrix.x4 for the B fragments of n8 tiles 2·jj and 2·jj + 1 (weight rows = n): matrix j
// covers n rows (j / 2)·8 .. +7, bytes (j % 2)·16 .. +15, so registers 0, 1 are {b[0], b[1]} of
// tile 2·jj and registers 2, 3 those of tile 2·jj + 1.
QRT_GEMM_HOST_DEVICE constexpr int b_ldmatrix_row(int warp_col0, int jj, int lane) {
  return warp_col0 + jj * 16 + (lane % 8) + (lane / 16) * 8;
}
QRT_GEMM_HOST_DEVICE constexpr int b_ldmatrix_piece(int ks, int lane) {
  return ks * 2 + (lane / 8) % 2;
}

// Accumulator c[2·half + e] of m16n8 tile (i, j) sits at warp-tile row i·16 + lane/4 + 8·half,
// column j·8 + 2·(lane % 4) + e.
QRT_GEMM_HOST_DEVICE constexpr int accumulator_row(int i, int half, int lane) {
  return i * 16 + lane / 4 + half * 8;
}
QRT_GEMM_HOST_DEVICE constexpr int accumulator_col(int j, int lane) {
  return j * 8 + 2 * (lane % 4);
}

// Grouped raster (Triton's matmul tutorial): consecutive blocks walk kGroupM tile rows down one
// tile column before moving right, so the B tiles a wave reads stay in L2 across those rows.
QRT_GEMM_HOST_DEVICE void tile_index(int block, int tiles_m, int tiles_n, int& tm, int& tn) {
  const int64_t per_group = int64_t{kGroupM} * tiles_n;
  const int64_t group = block / per_group;
  const int64_t first_m = group * kGroupM;
  const int64_t rows_left = int64_t{tiles_m} - first_m;
  const int64_t group_rows = rows_left < kGroupM ? rows_left : kGroupM;
  const int64_t in_group = block % per_group;
  tm = static_cast<int>(first_m + in_group % group_rows);
  tn = static_cast<int>(in_group / group_rows);
}

}  // namespace qrt::cuda::gemm_int8::layout
