// The preamble of every AVX-512 source file: <immintrin.h> with GCC's false warnings silenced, and
// the function attributes that compile one function for an AVX-512 target while the rest of the
// file (and the library) stays baseline x86-64. Callers check ops/cpu_features.h at run time
// before calling such a function.
//
// Include it from .cpp files only, never from a header: the diagnostic pragmas hold for the rest of
// the translation unit that includes it.
#pragma once

// GCC 12's AVX-512 intrinsics initialise their "undefined" pass-through vectors from themselves
// (`__m512i __Y = __Y;`), which -Wall reports at every use; the values are never read.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

// AVX-512 F/BW/VL: 16-lane float and 64-lane byte vectors with masks.
#define QRT_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))
// The same plus F16C, for kernels that widen f16 weights or activations.
#define QRT_TARGET_AVX512_F16C __attribute__((target("avx512f,avx512bw,avx512vl,f16c")))
// The same plus VNNI (vpdpbusd: u8·s8 dot products of 4 bytes into int32).
#define QRT_TARGET_AVX512VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

// Put before every loop over a register tile's rows or columns (trip counts up to 8). GCC leaves
// such loops rolled at first and then keeps an array of vector accumulators (__m512 c[MR][NR]) in
// stack memory, storing every accumulator after each multiply-add: measured 2.2x slower (int8
// VNNI, packed weights) and 4x slower (f32 weights read in place) than the unrolled tile, whose
// accumulators stay in registers.
#define QRT_UNROLL_TILE _Pragma("GCC unroll 8")
