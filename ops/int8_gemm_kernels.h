// The int8 GEMM implementations behind ops/int8_gemm.h, exposed so that tests can run every ISA
// path this CPU supports directly (not only the one the dispatcher picks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "ops/cpu_features.h"

namespace qrt::ops {

// Walks [begin, end) in tiles of Tile, then one shorter tile for the rest, calling
// body.template operator()<T>(start) with the tile's size T as a compile-time constant: the
// kernels' register tiles are templates over their rows and columns.
template <std::size_t Tile, typename Body>
void for_each_tile(std::size_t begin, std::size_t end, const Body& body) {
  std::size_t start = begin;
  for (; start + Tile <= end; start += Tile) body.template operator()<Tile>(start);
  // The rest (< Tile) is one tile of exactly its size: the levels above it run no full tile.
  if constexpr (Tile > 1) {
    if (start < end) for_each_tile<Tile - 1>(start, end, body);
  }
}

// Computes the output columns [n_begin, n_end) of gemm_s8s8_s32 (all M rows). Implementations are
// single-threaded; run_int8_gemm splits N across threads.
using Int8GemmColumnsFn = void (*)(const int8_t* a, std::size_t lda, const int8_t* b,
                                   std::size_t ldb, int32_t* acc, std::size_t ldc, std::size_t m,
                                   std::size_t n_begin, std::size_t n_end, std::size_t k);

struct Int8GemmImplementation {
  const char* name;
  Int8GemmColumnsFn columns;
  bool (*supported)(const CpuFeatures&);
  std::size_t column_grain;  // threads split N at multiples of this (the kernel's column tile)
};

// Every implementation compiled into this build, fastest first; the portable one is last and
// always supported.
std::span<const Int8GemmImplementation> int8_gemm_implementations();
// The first supported entry of int8_gemm_implementations() for this CPU.
const Int8GemmImplementation& best_int8_gemm_implementation();

// Runs `impl` on the whole problem, splitting N over up to `threads` threads when the problem is
// large enough to pay for them.
void run_int8_gemm(const Int8GemmImplementation& impl, const int8_t* a, std::size_t lda,
                   const int8_t* b, std::size_t ldb, int32_t* acc, std::size_t ldc, std::size_t m,
                   std::size_t n, std::size_t k, std::size_t threads);

// ISA kernels (int8_gemm_avx2.cpp, int8_gemm_avxvnni.cpp, int8_gemm_avx512.cpp). Only call when
// supported.
void gemm_s8s8_s32_columns_avx2(const int8_t* a, std::size_t lda, const int8_t* b, std::size_t ldb,
                                int32_t* acc, std::size_t ldc, std::size_t m, std::size_t n_begin,
                                std::size_t n_end, std::size_t k);
void gemm_s8s8_s32_columns_avxvnni(const int8_t* a, std::size_t lda, const int8_t* b,
                                   std::size_t ldb, int32_t* acc, std::size_t ldc, std::size_t m,
                                   std::size_t n_begin, std::size_t n_end, std::size_t k);
void gemm_s8s8_s32_columns_avx512vnni(const int8_t* a, std::size_t lda, const int8_t* b,
                                      std::size_t ldb, int32_t* acc, std::size_t ldc, std::size_t m,
                                      std::size_t n_begin, std::size_t n_end, std::size_t k);

}  // namespace qrt::ops
