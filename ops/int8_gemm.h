// Integer GEMM building blocks shared by every int8 CPU kernel. One entry point per operation picks
// the fastest implementation for this CPU at run time (AVX-512 VNNI, AVX2, portable); every
// implementation returns exactly the reference's int32 results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qrt::ops {

// acc[m*ldc + n] = Σ_k a[m*lda + k] · b[n*ldb + k]   (a: int8 [M, K], b: int8 [N, K], "TN" layout,
// the layout of a Linear weight [out, in]). No saturation: int32 accumulation is exact for
// K < 2^17 with int8 inputs.
void gemm_s8s8_s32(const int8_t* a, std::size_t lda, const int8_t* b, std::size_t ldb, int32_t* acc,
                   std::size_t ldc, std::size_t m, std::size_t n, std::size_t k);

// The portable definition the optimized kernels are tested against.
void gemm_s8s8_s32_reference(const int8_t* a, std::size_t lda, const int8_t* b, std::size_t ldb,
                             int32_t* acc, std::size_t ldc, std::size_t m, std::size_t n,
                             std::size_t k);

// Name of the implementation gemm_s8s8_s32 uses on this CPU ("avx512-vnni", "avx-vnni", "avx2",
// "portable").
const char* gemm_s8s8_s32_implementation();

// ---- Prepared weights ---------------------------------------------------------------------------
// A constant int8 weight [N, K] laid out once (in a kernel's prepare) for the VNNI kernels: blocks
// of 16 output columns, and inside a block, for each group of 4 consecutive k, the 16 columns' 4
// bytes side by side ([ceil(N/16)][ceil(K/4)][16][4], zero padded). One 64-byte vector then holds 4
// k-values for 16 columns, so vpdpbusd against a broadcast of 4 activation bytes adds a whole
// 4-step slice of 16 dot products with no horizontal sums. The correction 128·Σ_k b[n, k] for the
// u8-shifted activation (int8_gemm_avx512.cpp) is computed here once instead of on every call.
// Memory: ceil(N/16)·16 · ceil(K/4)·4 bytes + 4·N bytes for the sums (about the weight's own size).
struct PackedInt8Weights {
  std::size_t n = 0, k = 0;
  std::vector<int8_t> data;
  std::vector<int32_t> shifted_sums;  // 128·Σ_k b[n, k] modulo 2^32, padded to a multiple of 16
};

// Packs b (int8 [N, K], row stride ldb). K must be < 2^17 (exact int32 accumulation).
PackedInt8Weights pack_int8_weights(const int8_t* b, std::size_t ldb, std::size_t n, std::size_t k);

// acc[m*ldc + n] = Σ_k a[m*lda + k] · b[n, k] for the packed b: exactly gemm_s8s8_s32's result.
// Splits N over up to `threads` threads when the problem is large enough to pay for them.
void gemm_s8s8_s32_packed(const int8_t* a, std::size_t lda, const PackedInt8Weights& b,
                          int32_t* acc, std::size_t ldc, std::size_t m, std::size_t threads);

// "avx512-vnni" or "portable": what gemm_s8s8_s32_packed runs on this CPU.
const char* gemm_s8s8_s32_packed_implementation();

}  // namespace qrt::ops
