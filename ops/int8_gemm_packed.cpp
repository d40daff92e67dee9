// Packing of int8 weights for the VNNI layout (ops/int8_gemm.h, PackedInt8Weights), the portable
// kernel over that layout (the definition the vector kernel is checked against is still
// gemm_s8s8_s32_reference on the unpacked weight), and the dispatcher.
#include <algorithm>
#include <cstring>

#include "ops/cpu_features.h"
#include "ops/cpu_parallel.h"
#include "ops/int8_gemm.h"
#include "ops/int8_gemm_packed_kernels.h"

namespace qrt::ops {

namespace {

// Multiply-adds below which one thread is faster than starting another (a thread start costs
// tens of microseconds; the VNNI kernel does about a hundred int8 multiply-adds per nanosecond).
constexpr std::size_t kMinMacsPerThread = std::size_t{1} << 23;
// Column chunks per thread: small enough that a thread descheduled for a while leaves the rest of
// its share to the others, large enough (Linear 4096x4096 on 2 threads: 16 blocks, 256 columns)
// that claiming one costs nothing next to its arithmetic.
constexpr std::size_t kChunksPerThread = 8;

bool has_avx512vnni(const CpuFeatures& f) {
  return f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni;
}

}  // namespace

// Columns [block_begin·16, block_end·16) straight from the packed layout, int32 arithmetic.
void gemm_s8s8_s32_packed_columns_portable(const int8_t* a, std::size_t lda,
                                           const PackedInt8Weights& b, int32_t* acc,
                                           std::size_t ldc, std::size_t m, std::size_t block_begin,
                                           std::size_t block_end) {
  const std::size_t groups = (b.k + kPackedK - 1) / kPackedK;
  for (std::size_t blk = block_begin; blk < block_end; ++blk) {
    const int8_t* w = b.data.data() + blk * groups * kPackedColumns * kPackedK;
    const std::size_t n0 = blk * kPackedColumns;
    const std::size_t valid = std::min(kPackedColumns, b.n - n0);
    for (std::size_t i = 0; i < m; ++i) {
      int32_t sum[kPackedColumns] = {};
      for (std::size_t g = 0; g < groups; ++g) {
        for (std::size_t j = 0; j < kPackedK && g * kPackedK + j < b.k; ++j) {
          const int32_t x = a[i * lda + g * kPackedK + j];
          for (std::size_t l = 0; l < kPackedColumns; ++l)
            sum[l] += x * w[(g * kPackedColumns + l) * kPackedK + j];
        }
      }
      std::copy(sum, sum + valid, acc + i * ldc + n0);
    }
  }
}

PackedInt8Weights pack_int8_weights(const int8_t* b, std::size_t ldb, std::size_t n,
                                    std::size_t k) {
  PackedInt8Weights p;
  p.n = n;
  p.k = k;
  const std::size_t blocks = (n + kPackedColumns - 1) / kPackedColumns;
  const std::size_t groups = (k + kPackedK - 1) / kPackedK;
  p.data.assign(blocks * groups * kPackedColumns * kPackedK, int8_t{0});
  p.shifted_sums.assign(blocks * kPackedColumns, 0);
  for (std::size_t col = 0; col < n; ++col) {
    const std::size_t blk = col / kPackedColumns, lane = col % kPackedColumns;
    int32_t sum = 0;
    for (std::size_t kk = 0; kk < k; ++kk) {
      const int8_t v = b[col * ldb + kk];
      sum += v;
      const std::size_t g = kk / kPackedK;
      p.data[((blk * groups + g) * kPackedColumns + lane) * kPackedK + kk % kPackedK] = v;
    }
    // Multiplying by 128 may wrap; the subtraction it feeds is modulo 2^32 as well.
    p.shifted_sums[col] = static_cast<int32_t>(static_cast<uint32_t>(sum) * 128u);
  }
  return p;
}

void gemm_s8s8_s32_packed(const int8_t* a, std::size_t lda, const PackedInt8Weights& b,
                          int32_t* acc, std::size_t ldc, std::size_t m, std::size_t threads) {
  if (m == 0 || b.n == 0) return;
  const std::size_t blocks = (b.n + kPackedColumns - 1) / kPackedColumns;
  const std::size_t useful = std::max<std::size_t>(1, m * b.n * b.k / kMinMacsPerThread);
  const std::size_t workers = std::max<std::size_t>(1, std::min(threads, useful));
  const bool vnni = has_avx512vnni(cpu_features());
  const std::size_t grain = vnni ? kPackedBlocksPerTile : 1;
  const std::size_t per_chunk =
      (blocks + workers * kChunksPerThread - 1) / (workers * kChunksPerThread);
  parallel_claim(blocks, (per_chunk + grain - 1) / grain * grain, workers,
                 [&](std::size_t begin, std::size_t end) {
                   if (vnni) {
                     gemm_s8s8_s32_packed_columns_avx512vnni(a, lda, b, acc, ldc, m, begin, end);
                   } else {
                     gemm_s8s8_s32_packed_columns_portable(a, lda, b, acc, ldc, m, begin, end);
                   }
                 });
}

const char* gemm_s8s8_s32_packed_implementation() {
  return has_avx512vnni(cpu_features()) ? "avx512-vnni" : "portable";
}

}  // namespace qrt::ops
