// Integer GEMM building blocks shared by every int8 CPU kernel. One entry point per operation picks
// the fastest implementation for this CPU at run time (AVX-512 VNNI, AVX2, portable); every
// implementation returns exactly the reference's int32 results.
#pragma once

#include <cstddef>
#include <cstdint>

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

}  // namespace qrt::ops
