// The int8 tensor-core GEMM: kernel template, one instantiation per kTileConfigs entry, and the
// launcher. Formulas: epilogue.h; configurations: tile_config.h; PTX wrappers: mma_ptx.cuh.
//
// Data flow of one thread block (tile tm, tn of the output):
//   1. cp.async moves A[tm·BM .. +BM, k0 .. k0+BK) and B[tn·BN .. +BN, k0 .. k0+BK) into stage
//      (k-tile % STAGES) of shared memory; STAGES-1 k-tiles are in flight while one is computed.
//      Rows past M/N and 16-byte pieces past K are zero-filled, so tails need no other care.
//   2. Each warp loads its A and B fragments with ldmatrix.x4 and issues mma.sync m16n8k32.
//   3. The epilogue turns each thread's int32 accumulators into outputs in registers and stores
//      them directly (bounds-checked in M and N).
//
// Shared-memory layout of one operand tile: rows of BK bytes (64 or 128) in 16-byte pieces, piece
// c of row r stored at a swizzled position (fragment_layout.h: swizzled_offset) so that every
// ldmatrix phase is free of bank conflicts. All index math lives in fragment_layout.h, which
// tests/cuda/test_gemm_int8.cpp replays on the host against the PTX fragment layouts.
#include "cuda/gemm_int8/gemm_int8.cuh"

#include <cuda_fp16.h>

#include <string>

#include "cuda/activation_device.cuh"
#include "cuda/cuda_status.h"
#include "cuda/gemm_int8/fragment_layout.h"
#include "cuda/gemm_int8/mma_ptx.cuh"

namespace qrt::cuda::gemm_int8 {
namespace {

// ---------------------------------------------------------------------------------------------------
// Layer 1: the kernel.

using layout::swizzled_offset;

// Everything the epilogue needs, passed by value. Its own flat struct (not EpilogueSpec plus a
// field): pair_stores then fills EpilogueSpec's tail padding, keeping the kernel argument at 56
// bytes.
struct EpilogueParams {
  GemmOutput output;
  const float* row_scales;
  const float* column_scales;
  const float* bias;
  const float* addend;
  bool has_activation;
  ActivationKind activation;
  float activation_param;
  float output_scale;
  bool pair_stores;  // N even and y aligned to two elements: store column pairs at once
};

template <int BM, int BN, int BK, int WARPS_M, int WARPS_N, int STAGES>
struct Shape {
  static constexpr int kThreads = WARPS_M * WARPS_N * 32;
  static constexpr int kWarpM = BM / WARPS_M;  // rows of the warp tile
  static constexpr int kWarpN = BN / WARPS_N;  // columns of the warp tile
  static constexpr int kMmaM = kWarpM / 16;    // m16 fragments per warp
  static constexpr int kMmaN = kWarpN / 8;     // n8 fragments per warp
  static constexpr int kPiecesPerRow = layout::pieces_per_row(BK);
  static constexpr int kStageBytesA = BM * BK;
  static constexpr int kStageBytesB = BN * BK;
  static constexpr int kSharedBytes = (kStageBytesA + kStageBytesB) * STAGES;
  static constexpr int kPiecesA = BM * kPiecesPerRow / kThreads;  // cp.async per thread per stage
  static constexpr int kPiecesB = BN * kPiecesPerRow / kThreads;
  static_assert(kWarpM % 16 == 0, "warp tile rows must be a multiple of the m16 fragment");
  static_assert(kWarpN % 16 == 0,
                "warp tile columns must be a multiple of 16 (ldmatrix.x4 of B "
                "loads two n8 fragments)");
  static_assert(BM * kPiecesPerRow % kThreads == 0 && BN * kPiecesPerRow % kThreads == 0,
                "every thread copies the same number of pieces");
  static_assert(STAGES >= 2, "the pipeline needs at least two stages");
  static_assert(layout::is_supported_block_k(BK), "block_k is 64 or 128 bytes");
};

__device__ __forceinline__ float epilogue_value(int32_t acc, int64_t row, int64_t col, int64_t n,
                                                const EpilogueParams& e) {
  // The CPU reference's order, (s_x·s_w)·acc (ops/quantized/linear_int8_dynamic.cpp), with explicit
  // roundings: a multiply contracted with the following add into an FMA would make the result
  // depend on which optional terms are present (e.g. "+ 0.0f addend" vs no addend).
  float scale = 1.0f;
  if (e.row_scales != nullptr) scale = e.row_scales[row];
  if (e.column_scales != nullptr) scale = __fmul_rn(scale, e.column_scales[col]);
  float v = __fmul_rn(scale, static_cast<float>(acc));
  if (e.addend != nullptr) v = __fadd_rn(v, e.addend[row * n + col]);
  if (e.bias != nullptr) v = __fadd_rn(v, e.bias[col]);
  if (e.has_activation) v = activate(e.activation, v, e.activation_param);
  return v;
}

// Symmetric per-tensor requantization, ir/quantize.h: clamp(round-half-even(v / s), -127, 127).
// IEEE division (__fdiv_rn) and rintf match the CPU's float division and std::nearbyint bit for
// bit. fmaxf/fminf map NaN to -127 (defined, never a fault).
__device__ __forceinline__ int8_t requantize(float v, float scale) {
  const float r = rintf(__fdiv_rn(v, scale));
  return static_cast<int8_t>(fminf(fmaxf(r, -127.0f), 127.0f));
}

// Stores the outputs for columns col, col+1 of `row` (col+1 only when < n).
__device__ __forceinline__ void store_pair(void* y, int64_t row, int64_t col, int64_t n,
                                           int32_t acc0, int32_t acc1, const EpilogueParams& e) {
  const bool second = col + 1 < n;
  const int64_t index = row * n + col;
  if (e.output == GemmOutput::kS32) {
    int32_t* out = static_cast<int32_t*>(y) + index;
    if (second && e.pair_stores) {
      *reinterpret_cast<int2*>(out) = make_int2(acc0, acc1);
    } else {
      out[0] = acc0;
      if (second) out[1] = acc1;
    }
    return;
  }
  const float v0 = epilogue_value(acc0, row, col, n, e);
  const float v1 = second ? epilogue_value(acc1, row, col + 1, n, e) : 0.0f;
  switch (e.output) {
    case GemmOutput::kF32: {
      float* out = static_cast<float*>(y) + index;
      if (second && e.pair_stores) {
        *reinterpret_cast<float2*>(out) = make_float2(v0, v1);
      } else {
        out[0] = v0;
        if (second) out[1] = v1;
      }
      break;
    }
    case GemmOutput::kF16: {
      __half* out = static_cast<__half*>(y) + index;
      if (second && e.pair_stores) {
        *reinterpret_cast<__half2*>(out) = __floats2half2_rn(v0, v1);
      } else {
        out[0] = __float2half_rn(v0);
        if (second) out[1] = __float2half_rn(v1);
      }
      break;
    }
    case GemmOutput::kS8: {
      int8_t* out = static_cast<int8_t*>(y) + index;
      if (second && e.pair_stores) {
        *reinterpret_cast<char2*>(out) =
            make_char2(requantize(v0, e.output_scale), requantize(v1, e.output_scale));
      } else {
        out[0] = requantize(v0, e.output_scale);
        if (second) out[1] = requantize(v1, e.output_scale);
      }
      break;
    }
    default:
      break;
  }
}

template <int BM, int BN, int BK, int WARPS_M, int WARPS_N, int STAGES>
__global__ void __launch_bounds__(WARPS_M* WARPS_N * 32, 1)
    gemm_int8_kernel(const int8_t* __restrict__ a, const int8_t* __restrict__ b, int64_t m,
                     int64_t n, int64_t k, int tiles_m, int tiles_n, EpilogueParams epilogue,
                     void* __restrict__ y) {
  using S = Shape<BM, BN, BK, WARPS_M, WARPS_N, STAGES>;
  extern __shared__ __align__(128) unsigned char shared[];
  unsigned char* shared_a = shared;                             // STAGES × [BM][BK]
  unsigned char* shared_b = shared + STAGES * S::kStageBytesA;  // STAGES × [BN][BK]

  int tm = 0;
  int tn = 0;
  layout::tile_index(static_cast<int>(blockIdx.x), tiles_m, tiles_n, tm, tn);
  const int64_t row0 = static_cast<int64_t>(tm) * BM;  // first output row of this tile
  const int64_t col0 = static_cast<int64_t>(tn) * BN;  // first output column

  const int thread = static_cast<int>(threadIdx.x);
  const int lane = thread % 32;
  const int warp = thread / 32;
  const int warp_m = warp / WARPS_N;  // warp row within the tile
  const int warp_n = warp % WARPS_N;

  const int k_tiles = static_cast<int>((k + BK - 1) / BK);

  // Copies k-tile `kt` into stage `stage`. Piece p (of BM·BK/16 resp. BN·BK/16) is row
  // p / (BK/16), piece p % (BK/16); consecutive threads take consecutive pieces, so a warp reads
  // whole BK-byte rows (512 contiguous-per-row bytes).
  auto load_stage = [&](int stage, int kt) {
    const int64_t k0 = static_cast<int64_t>(kt) * BK;
    const uint32_t base_a = ptx::shared_address(shared_a + stage * S::kStageBytesA);
    const uint32_t base_b = ptx::shared_address(shared_b + stage * S::kStageBytesB);
#pragma unroll
    for (int i = 0; i < S::kPiecesA; ++i) {
      const int p = thread + i * S::kThreads;
      const int row = layout::copy_row(p, BK);
      const int piece = layout::copy_piece(p, BK);
      const int64_t global_row = row0 + row;
      const int64_t global_k = k0 + piece * 16;
      const bool valid = global_row < m && global_k < k;  // k % 16 == 0: the piece is whole
      const int8_t* source = valid ? a + global_row * k + global_k : a;
      ptx::cp_async_16(base_a + swizzled_offset(row, piece, BK), source, valid ? 16 : 0);
    }
#pragma unroll
    for (int i = 0; i < S::kPiecesB; ++i) {
      const int p = thread + i * S::kThreads;
      const int row = layout::copy_row(p, BK);
      const int piece = layout::copy_piece(p, BK);
      const int64_t global_row = col0 + row;
      const int64_t global_k = k0 + piece * 16;
      const bool valid = global_row < n && global_k < k;
      const int8_t* source = valid ? b + global_row * k + global_k : b;
      ptx::cp_async_16(base_b + swizzled_offset(row, piece, BK), source, valid ? 16 : 0);
    }
  };

  int32_t acc[S::kMmaM][S::kMmaN][4];
#pragma unroll
  for (int i = 0; i < S::kMmaM; ++i)
#pragma unroll
    for (int j = 0; j < S::kMmaN; ++j)
#pragma unroll
      for (int c = 0; c < 4; ++c) acc[i][j][c] = 0;

        // Prologue: STAGES-1 k-tiles in flight. Every iteration commits exactly one group (possibly
        // empty), so "group g holds k-tile g" and wait_group<STAGES-2> below means k-tile kt has
        // landed.
#pragma unroll
  for (int s = 0; s < STAGES - 1; ++s) {
    if (s < k_tiles) load_stage(s, s);
    ptx::cp_async_commit();
  }

  for (int kt = 0; kt < k_tiles; ++kt) {
    ptx::cp_async_wait<STAGES - 2>();
    // Makes k-tile kt (copied by every thread) visible to all, and guarantees every warp has
    // finished computing k-tile kt-1, whose stage the load below overwrites.
    __syncthreads();
    const int next = kt + STAGES - 1;
    if (next < k_tiles) load_stage(next % STAGES, next);
    ptx::cp_async_commit();

    const int stage = kt % STAGES;
    const unsigned char* tile_a = shared_a + stage * S::kStageBytesA;
    const unsigned char* tile_b = shared_b + stage * S::kStageBytesB;
#pragma unroll
    for (int ks = 0; ks < BK / 32; ++ks) {  // k32 steps of the stage
      uint32_t frag_a[S::kMmaM][4];
      uint32_t frag_b[S::kMmaN][2];
      // A: matrix j = lane / 8 covers rows (j % 2)·8 .. +7 and bytes (j / 2)·16 .. +15 of the
      // 16×32 fragment, which yields a[0..3] in the order of mma_s8_16x8x32.
#pragma unroll
      for (int i = 0; i < S::kMmaM; ++i) {
        const int row = layout::a_ldmatrix_row(warp_m * S::kWarpM, i, lane);
        const int piece = layout::a_ldmatrix_piece(ks, lane);
        ptx::ldmatrix_x4(frag_a[i], ptx::shared_address(tile_a + swizzled_offset(row, piece, BK)));
      }
      // B: matrix j covers weight rows (n) (j / 2)·8 .. +7 and bytes (j % 2)·16 .. +15, i.e.
      // {b[0], b[1]} of n8 fragment 2·jj and {b[0], b[1]} of fragment 2·jj + 1.
#pragma unroll
      for (int jj = 0; jj < S::kMmaN / 2; ++jj) {
        const int row = layout::b_ldmatrix_row(warp_n * S::kWarpN, jj, lane);
        const int piece = layout::b_ldmatrix_piece(ks, lane);
        uint32_t r[4];
        ptx::ldmatrix_x4(r, ptx::shared_address(tile_b + swizzled_offset(row, piece, BK)));
        frag_b[2 * jj][0] = r[0];
        frag_b[2 * jj][1] = r[1];
        frag_b[2 * jj + 1][0] = r[2];
        frag_b[2 * jj + 1][1] = r[3];
      }
#pragma unroll
      for (int i = 0; i < S::kMmaM; ++i)
#pragma unroll
        for (int j = 0; j < S::kMmaN; ++j) ptx::mma_s8_16x8x32(acc[i][j], frag_a[i], frag_b[j]);
    }
  }
  ptx::cp_async_wait<0>();  // only empty groups remain; leave nothing in flight at exit

  // Epilogue: c[0], c[1] sit at (g, 2t), (g, 2t+1) of the 16×8 fragment, c[2], c[3] at row g + 8.
#pragma unroll
  for (int i = 0; i < S::kMmaM; ++i) {
#pragma unroll
    for (int j = 0; j < S::kMmaN; ++j) {
      const int64_t col = col0 + warp_n * S::kWarpN + layout::accumulator_col(j, lane);
      if (col >= n) continue;
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int64_t row = row0 + warp_m * S::kWarpM + layout::accumulator_row(i, half, lane);
        if (row >= m) continue;
        store_pair(y, row, col, n, acc[i][j][2 * half], acc[i][j][2 * half + 1], epilogue);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Layer 2: the launcher.

using KernelFunction = void (*)(const int8_t*, const int8_t*, int64_t, int64_t, int64_t, int, int,
                                EpilogueParams, void*);

struct CompiledConfig {
  KernelFunction kernel;
  int threads;
  int shared_bytes;
  int block_k;
};

template <int BM, int BN, int BK, int WARPS_M, int WARPS_N, int STAGES>
constexpr CompiledConfig compiled() {
  using S = Shape<BM, BN, BK, WARPS_M, WARPS_N, STAGES>;
  return {&gemm_int8_kernel<BM, BN, BK, WARPS_M, WARPS_N, STAGES>, S::kThreads, S::kSharedBytes,
          BK};
}

// Must list kTileConfigs in order (checked below).
constexpr CompiledConfig kCompiled[] = {
    compiled<128, 256, 128, 2, 4, 3>(), compiled<128, 256, 64, 2, 4, 3>(),
    compiled<128, 128, 64, 2, 2, 4>(),  compiled<64, 128, 64, 2, 2, 4>(),
    compiled<64, 64, 64, 2, 2, 4>(),
};
static_assert(std::size(kCompiled) == kNumTileConfigs);

constexpr bool compiled_table_matches() {
  for (int i = 0; i < kNumTileConfigs; ++i) {
    if (kCompiled[i].threads != kTileConfigs[i].threads() ||
        kCompiled[i].shared_bytes != kTileConfigs[i].shared_memory_bytes() ||
        kCompiled[i].block_k != kTileConfigs[i].block_k) {
      return false;
    }
  }
  return true;
}
static_assert(compiled_table_matches(), "kCompiled must instantiate kTileConfigs, in order");

bool aligned(const void* pointer, std::size_t alignment) {
  return reinterpret_cast<std::uintptr_t>(pointer) % alignment == 0;
}

}  // namespace

Status launch_gemm_int8(const int8_t* a, const int8_t* b, int64_t m, int64_t n, int64_t k,
                        const EpilogueSpec& epilogue, void* y, int config, void* workspace,
                        std::size_t workspace_bytes, cudaStream_t stream) {
  const std::string where = "launch_gemm_int8 (M = " + std::to_string(m) +
                            ", N = " + std::to_string(n) + ", K = " + std::to_string(k) + "): ";
  if (config != kAutoConfig)
    QRT_RETURN_IF_ERROR(can_implement(m, n, k, config, epilogue));
  else
    QRT_RETURN_IF_ERROR(can_implement(m, n, k, kNumTileConfigs - 1, epilogue));
  if (m == 0 || n == 0) return Status::ok();
  if (a == nullptr) return invalid_argument(where + "a is null");
  if (b == nullptr) return invalid_argument(where + "b is null");
  if (y == nullptr) return invalid_argument(where + "y is null");
  if (!aligned(a, 16)) return invalid_argument(where + "a is not 16-byte aligned");
  if (!aligned(b, 16)) return invalid_argument(where + "b is not 16-byte aligned");
  const int element_bytes = gemm_output_bytes(epilogue.output);
  if (!aligned(y, static_cast<std::size_t>(element_bytes))) {
    return invalid_argument(where + "y is not aligned to its " + std::to_string(element_bytes) +
                            "-byte elements");
  }

  if (config == kAutoConfig) {
    int device = 0;
    int multiprocessors = 0;
    QRT_CUDA_RETURN_IF_ERROR(cudaGetDevice(&device));
    QRT_CUDA_RETURN_IF_ERROR(
        cudaDeviceGetAttribute(&multiprocessors, cudaDevAttrMultiProcessorCount, device));
    config = select_tile_config(m, n, k, multiprocessors);
    QRT_RETURN_IF_ERROR(can_implement(m, n, k, config, epilogue));
  }
  const std::size_t needed = workspace_size(m, n, k, config);
  if (workspace_bytes < needed || (needed > 0 && workspace == nullptr)) {
    return invalid_argument(where + "workspace of " + std::to_string(workspace_bytes) +
                            " bytes, config " + kTileConfigs[config].name + " needs " +
                            std::to_string(needed));
  }

  const TileConfig& tile = kTileConfigs[config];
  const CompiledConfig& compiled_config = kCompiled[config];
  const int tiles_m = static_cast<int>((m + tile.block_m - 1) / tile.block_m);
  const int tiles_n = static_cast<int>((n + tile.block_n - 1) / tile.block_n);
  const int64_t blocks = static_cast<int64_t>(tiles_m) * tiles_n;  // <= INT32_MAX: can_implement

  EpilogueParams params{};
  params.output = epilogue.output;
  params.row_scales = epilogue.row_scales;
  params.column_scales = epilogue.column_scales;
  params.bias = epilogue.bias;
  params.addend = epilogue.addend;
  params.has_activation = epilogue.has_activation;
  params.activation = epilogue.activation;
  params.activation_param = epilogue.activation_param;
  params.output_scale = epilogue.output_scale;
  params.pair_stores = n % 2 == 0 && aligned(y, 2 * static_cast<std::size_t>(element_bytes));

  // More than 48 KB of dynamic shared memory needs an explicit opt-in per kernel.
  QRT_CUDA_RETURN_IF_ERROR(cudaFuncSetAttribute(compiled_config.kernel,
                                                cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                compiled_config.shared_bytes));
  compiled_config.kernel<<<static_cast<unsigned>(blocks), compiled_config.threads,
                           compiled_config.shared_bytes, stream>>>(a, b, m, n, k, tiles_m, tiles_n,
                                                                   params, y);
  QRT_CUDA_RETURN_IF_ERROR(cudaGetLastError());
  return Status::ok();
}

}  // namespace qrt::cuda::gemm_int8
