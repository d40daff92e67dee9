// The NF4 GEMM implementations behind ops/nf4_gemm.h, exposed so that tests can run every ISA path
// this CPU supports directly (not only the one the dispatcher picks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "ops/cpu_features.h"

namespace qrt::ops {

// The operands of one NF4 product (see nf4_gemm_f32 for their meaning and layout).
struct Nf4GemmArgs {
  const float* x;
  std::size_t m;
  const uint8_t* packed;
  const float* absmax;
  std::size_t n;
  std::size_t k;
  std::size_t block_size;
  const float* bias;
  float* y;
};

// Computes the output columns [n_begin, n_end) (all M rows). Single-threaded; run_nf4_gemm splits
// N across threads. Called only with valid arguments (nf4_gemm_arguments_valid).
using Nf4GemmColumnsFn = void (*)(const Nf4GemmArgs& args, std::size_t n_begin, std::size_t n_end);

struct Nf4GemmImplementation {
  const char* name;
  Nf4GemmColumnsFn columns;
  bool (*supported)(const CpuFeatures&);
  std::size_t column_grain;  // threads split N at multiples of this (the kernel's column tile)
};

// True when the shapes satisfy the kernels' preconditions: block_size a valid NF4 block size
// (ir/quant_formats.h) and k a multiple of it, non-null pointers where sizes are non-zero.
bool nf4_gemm_arguments_valid(const Nf4GemmArgs& args);

// Every implementation compiled into this build, fastest first; the portable one is last.
std::span<const Nf4GemmImplementation> nf4_gemm_implementations();
const Nf4GemmImplementation& best_nf4_gemm_implementation();

// Runs `impl` on the whole problem over up to `threads` threads. Invalid arguments (see
// nf4_gemm_arguments_valid) fill y with NaN instead of reading out of bounds.
void run_nf4_gemm(const Nf4GemmImplementation& impl, const Nf4GemmArgs& args, std::size_t threads);

// ISA kernels (nf4_gemm_avx2.cpp / nf4_gemm_avx512.cpp). Only call when supported.
void nf4_gemm_columns_avx2(const Nf4GemmArgs& args, std::size_t n_begin, std::size_t n_end);
void nf4_gemm_columns_avx512(const Nf4GemmArgs& args, std::size_t n_begin, std::size_t n_end);

}  // namespace qrt::ops
