// Inline-PTX wrappers for the int8 tensor-core pipeline (device code only; sm_80+).
//   cp.async.cg     16-byte global -> shared copies that bypass L1, with zero fill
//   ldmatrix.x4     four 8×8 b16 matrices (8 rows × 16 bytes each) from shared memory into the
//                   fragment layout mma.sync expects
//   mma.sync m16n8k32 s8·s8 -> s32 (PTX ISA, "Matrix fragments for mma.m16n8k32")
#pragma once

#include <cstdint>

namespace qrt::cuda::gemm_int8::ptx {

__device__ __forceinline__ uint32_t shared_address(const void* pointer) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(pointer));
}

// Copies 16 bytes from `global` to `shared` when src_bytes == 16; with src_bytes == 0 nothing is
// read and the 16 shared bytes are zero-filled (tails in M, N and K). `global` must still be a
// valid address.
__device__ __forceinline__ void cp_async_16(uint32_t shared, const void* global, int src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared), "l"(global),
               "r"(src_bytes));
}

__device__ __forceinline__ void cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::);
}

// Waits until at most `kPending` committed groups are still in flight.
template <int kPending>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
}

// Lane l supplies the row address of matrix l/8, row l%8; register j receives matrix j, with lane
// l holding row l/4, bytes 4·(l%4)..4·(l%4)+3.
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t shared) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared));
}

// c += a·b for a 16×32 int8 A fragment (row), a 32×8 int8 B fragment (col) and a 16×8 int32 C.
// With g = lane/4, t = lane%4:
//   a[0]: A[g][4t..4t+3]     a[1]: A[g+8][4t..4t+3]   a[2]: A[g][16+4t..]   a[3]: A[g+8][16+4t..]
//   b[0]: B[4t..4t+3][g]     b[1]: B[16+4t..16+4t+3][g]
//   c[0], c[1]: C[g][2t], C[g][2t+1]        c[2], c[3]: C[g+8][2t], C[g+8][2t+1]
__device__ __forceinline__ void mma_s8_16x8x32(int32_t (&c)[4], const uint32_t (&a)[4],
                                               const uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

}  // namespace qrt::cuda::gemm_int8::ptx
