// Weight-only GEMV / small-M GEMM kernels (formulas in weight_only.cuh).
//
// Work split: a block of 8 warps owns 32 (M = 1) or 16 consecutive output channels (4 or 2 per
// warp, see kRowsPerWarpFor) and walks K in
// steps of 32·E elements (E = 16 for int8, one 16-byte load per lane; E = 32 for NF4, one 16-byte
// load of 32 packed codes per lane). Per step:
//   - each lane already holds the 16 weight bytes of its E elements for each of its rows (loaded
//   one step
//     ahead, so two steps of weight loads are in flight while the previous one is used);
//   - the block stages x[0..M)[k0 .. k0 + 32·E) into shared memory once (f16, 16-byte loads), so
//     the channels of the block share one read of x;
//   - each lane dequantizes its weights in registers and accumulates, per row and per m, the dot
//     product of its E elements in f32.
// At the end a warp reduction (butterfly shuffles) sums the 32 lanes, and lane 0 applies the scale,
// adds the bias and stores. At N = K = 8192 the grid has 256 (M = 1) or 512 blocks of 256 threads:
// about one wave at 2 resident blocks per SM on all 132 SMs, with 32-64 KB of weight loads in
// flight per SM.
#include "cuda/weight_only/weight_only.cuh"

#include <limits>
#include <string>

#include "cuda/cuda_status.h"
#include "cuda/element_convert.cuh"
#include "ir/quant_formats.h"

namespace qrt::cuda::weight_only {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
// Output channels per warp. GEMV (M = 1) takes 4: at N = 8192 that makes 256 blocks, which fit in
// one wave at 2 resident blocks per SM on 132 SMs (2 rows per warp would make 512 blocks for about
// 400 slots: two waves, the second a third full), and doubles the weight bytes each lane has in
// flight. Larger M keeps 2 (registers: M accumulators per row).
template <int kMaxM>
constexpr int kRowsPerWarpFor = kMaxM == 1 ? 4 : 2;
template <int kMaxM>
constexpr int kRowsPerBlockFor = kWarps* kRowsPerWarpFor<kMaxM>;

__device__ __forceinline__ uint4 load_streaming(const void* pointer) {
  // Weights are read exactly once: the read-only path, no reuse expected.
  return __ldg(static_cast<const uint4*>(pointer));
}

// The 4 bytes of `word`, sign-extended to float (byte 0 = lowest address = lowest k).
__device__ __forceinline__ void int8x4_to_float(uint32_t word, float* out) {
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    out[i] = static_cast<float>(static_cast<int8_t>((word >> (8 * i)) & 0xffu));
  }
}

// int8 per-channel weights: 16 elements per lane; the scale s[n] is applied after the reduction.
struct Int8Format {
  static constexpr int kElementsPerLane = 16;
  const int8_t* codes;
  const float* scales;

  struct Raw {
    uint4 bits;
  };
  __device__ __forceinline__ Raw load(int64_t row, int64_t k0, int64_t k) const {
    return Raw{load_streaming(codes + row * k + k0)};
  }
  // w[j] = q[row, k0 + j]; returns the factor that multiplies this chunk's dot product.
  __device__ __forceinline__ float decode(const Raw& raw, const float* /*codebook*/,
                                          float (&w)[kElementsPerLane]) const {
    int8x4_to_float(raw.bits.x, w + 0);
    int8x4_to_float(raw.bits.y, w + 4);
    int8x4_to_float(raw.bits.z, w + 8);
    int8x4_to_float(raw.bits.w, w + 12);
    return 1.0f;
  }
  __device__ __forceinline__ float finish(float acc, int64_t row) const {
    return acc * scales[row];
  }
};

// NF4: 32 elements per lane (16 packed bytes), all inside one quantization block (block_size >= 32
// is a power of two, so blocks start at multiples of 32). The chunk's absmax is decoded when its
// codes are loaded and multiplies the chunk's dot product.
struct Nf4Format {
  static constexpr int kElementsPerLane = 32;
  const uint8_t* packed;
  int64_t block_size;
  const float* absmax;  // null: double quantization
  const int8_t* absmax_codes;
  const float* group_scales;
  float absmax_offset;
  int64_t group_size;

  struct Raw {
    uint4 bits;
    float absmax;
  };
  __device__ __forceinline__ Raw load(int64_t row, int64_t k0, int64_t k) const {
    const int64_t element = row * k + k0;  // even: k0 and k are multiples of 32
    const int64_t block = element / block_size;
    Raw raw;
    raw.bits = load_streaming(packed + element / 2);
    if (absmax != nullptr) {
      raw.absmax = absmax[block];
    } else {
      // code·group_scale + offset without a fused multiply-add, as ir::nf4_block_absmax computes
      // it on the CPU (the encoder guarantees > 0 either way).
      raw.absmax = __fadd_rn(
          __fmul_rn(static_cast<float>(absmax_codes[block]), group_scales[block / group_size]),
          absmax_offset);
    }
    return raw;
  }
  // Byte j holds element 2j in its high nibble and 2j + 1 in its low nibble.
  __device__ __forceinline__ float decode(const Raw& raw, const float* codebook,
                                          float (&w)[kElementsPerLane]) const {
    const uint32_t words[4] = {raw.bits.x, raw.bits.y, raw.bits.z, raw.bits.w};
#pragma unroll
    for (int word = 0; word < 4; ++word) {
#pragma unroll
      for (int byte = 0; byte < 4; ++byte) {
        const uint32_t b = (words[word] >> (8 * byte)) & 0xffu;
        const int j = 2 * (4 * word + byte);
        w[j] = codebook[b >> ir::kNF4HighNibbleShift];
        w[j + 1] = codebook[b & 0xfu];
      }
    }
    return raw.absmax;
  }
  __device__ __forceinline__ float finish(float acc, int64_t /*row*/) const {
    return acc;
  }
};

// The NF4 codebook in constant memory (ir/quant_formats.h is the one definition); each block
// copies it to shared memory once, where a warp's data-dependent look-ups hit 16 distinct banks.
__constant__ float kCodebookDevice[16] = {
    ir::kNF4Codebook[0],  ir::kNF4Codebook[1],  ir::kNF4Codebook[2],  ir::kNF4Codebook[3],
    ir::kNF4Codebook[4],  ir::kNF4Codebook[5],  ir::kNF4Codebook[6],  ir::kNF4Codebook[7],
    ir::kNF4Codebook[8],  ir::kNF4Codebook[9],  ir::kNF4Codebook[10], ir::kNF4Codebook[11],
    ir::kNF4Codebook[12], ir::kNF4Codebook[13], ir::kNF4Codebook[14], ir::kNF4Codebook[15]};

template <class Format, int kMaxM, typename Out>
__global__ void __launch_bounds__(kThreads)
    weight_only_kernel(const __half* __restrict__ x, int64_t m, int64_t n, int64_t k, Format format,
                       const float* __restrict__ bias, Out* __restrict__ y) {
  constexpr int kE = Format::kElementsPerLane;
  constexpr int kChunk = 32 * kE;            // elements of K per step
  constexpr int kPiecesPerRow = kChunk / 8;  // 16-byte pieces (8 halves) of one staged x row
  constexpr int kPiecesPerLane = kE / 8;     // 2 (int8) or 4 (NF4)
  // Piece s of lane l's elements (k offset l·kE + 8·s) is stored at index s·32 + l, so the 32
  // lanes' 16-byte reads of piece s are 512 contiguous bytes: no bank conflicts (a [lane][kE]
  // layout would put the lanes 32 or 64 bytes apart, 2- to 16-way conflicts).
  __shared__ uint4 x_shared[kMaxM][kPiecesPerRow];
  __shared__ float codebook[16];

  const int lane = static_cast<int>(threadIdx.x % 32);
  const int warp = static_cast<int>(threadIdx.x / 32);
  constexpr int kRowsPerWarp = kRowsPerWarpFor<kMaxM>;
  const int64_t row0 =
      static_cast<int64_t>(blockIdx.x) * kRowsPerBlockFor<kMaxM> + warp * kRowsPerWarp;
  if (threadIdx.x < 16) codebook[threadIdx.x] = kCodebookDevice[threadIdx.x];

  float acc[kRowsPerWarp][kMaxM];
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r)
#pragma unroll
    for (int i = 0; i < kMaxM; ++i) acc[r][i] = 0.0f;

  typename Format::Raw next[kRowsPerWarp] = {};
  auto load_step = [&](int64_t k0) {
    const int64_t kk = k0 + lane * kE;  // k % kE == 0: the lane's chunk is whole or absent
    if (kk >= k) return;
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      if (row0 + r < n) next[r] = format.load(row0 + r, kk, k);
    }
  };
  load_step(0);

  for (int64_t k0 = 0; k0 < k; k0 += kChunk) {
    typename Format::Raw current[kRowsPerWarp];
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) current[r] = next[r];
    if (k0 + kChunk < k) load_step(k0 + kChunk);

    // Every warp has finished reading the previous step's x (and on the first step the codebook
    // is written) before x_shared is overwritten.
    __syncthreads();
    const int pieces = static_cast<int>(m) * kPiecesPerRow;
    for (int p = static_cast<int>(threadIdx.x); p < pieces; p += kThreads) {
      const int i = p / kPiecesPerRow;
      const int piece = p % kPiecesPerRow;  // k offset piece·8 = owner·kE + 8·s
      const int owner = piece / kPiecesPerLane;
      const int s = piece % kPiecesPerLane;
      const int64_t kk = k0 + piece * 8;
      uint4 v = make_uint4(0, 0, 0, 0);
      if (kk < k) v = *reinterpret_cast<const uint4*>(x + i * k + kk);  // k % 8 == 0
      x_shared[i][s * 32 + owner] = v;
    }
    __syncthreads();

    const int64_t kk = k0 + lane * kE;
    if (kk < k) {
#pragma unroll
      for (int r = 0; r < kRowsPerWarp; ++r) {
        if (row0 + r >= n) continue;
        float w[kE];
        const float factor = format.decode(current[r], codebook, w);
#pragma unroll
        for (int i = 0; i < kMaxM; ++i) {
          if (i >= m) break;
          float partial = 0.0f;
#pragma unroll
          for (int s = 0; s < kPiecesPerLane; ++s) {
            const uint4 piece = x_shared[i][s * 32 + lane];  // elements 8·s .. 8·s + 7
            const uint32_t words[4] = {piece.x, piece.y, piece.z, piece.w};
#pragma unroll
            for (int h = 0; h < 4; ++h) {
              __half2 pair;
              static_assert(sizeof(pair) == sizeof(uint32_t));
              memcpy(&pair, &words[h], sizeof(pair));
              const float2 xf = __half22float2(pair);
              partial = fmaf(w[8 * s + 2 * h], xf.x, partial);
              partial = fmaf(w[8 * s + 2 * h + 1], xf.y, partial);
            }
          }
          acc[r][i] = fmaf(factor, partial, acc[r][i]);
        }
      }
    }
  }

#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r)
#pragma unroll
    for (int i = 0; i < kMaxM; ++i)
#pragma unroll
      for (int offset = 16; offset > 0; offset /= 2)
        acc[r][i] += __shfl_xor_sync(0xffffffffu, acc[r][i], offset);

  if (lane == 0) {
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const int64_t row = row0 + r;
      if (row >= n) continue;
      const float b = bias != nullptr ? bias[row] : 0.0f;
#pragma unroll
      for (int i = 0; i < kMaxM; ++i) {
        if (i >= m) break;
        store(y, i * n + row, format.finish(acc[r][i], row) + b);
      }
    }
  }
}

template <class Format, int kMaxM>
Status launch_rows(const __half* x, int64_t m, int64_t n, int64_t k, const Format& format,
                   const float* bias, WeightOnlyOutput output, void* y, cudaStream_t stream) {
  const int64_t blocks = (n + kRowsPerBlockFor<kMaxM> - 1) / kRowsPerBlockFor<kMaxM>;
  if (output == WeightOnlyOutput::kF32) {
    weight_only_kernel<Format, kMaxM, float>
        <<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(x, m, n, k, format, bias,
                                                                 static_cast<float*>(y));
  } else {
    weight_only_kernel<Format, kMaxM, __half>
        <<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(x, m, n, k, format, bias,
                                                                 static_cast<__half*>(y));
  }
  QRT_CUDA_RETURN_IF_ERROR(cudaGetLastError());
  return Status::ok();
}

// The instantiation with the fewest register rows that holds M: 1 (GEMV), 4 or 16.
template <class Format>
Status launch_format(const __half* x, int64_t m, int64_t n, int64_t k, const Format& format,
                     const float* bias, WeightOnlyOutput output, void* y, cudaStream_t stream) {
  if (m == 1) return launch_rows<Format, 1>(x, m, n, k, format, bias, output, y, stream);
  if (m <= 4) return launch_rows<Format, 4>(x, m, n, k, format, bias, output, y, stream);
  return launch_rows<Format, 16>(x, m, n, k, format, bias, output, y, stream);
}

bool aligned(const void* pointer, std::size_t alignment) {
  return reinterpret_cast<std::uintptr_t>(pointer) % alignment == 0;
}

std::string shape_text(const char* what, int64_t m, int64_t n, int64_t k) {
  return std::string(what) + " (M = " + std::to_string(m) + ", N = " + std::to_string(n) +
         ", K = " + std::to_string(k) + "): ";
}

Status check_common(const std::string& where, int64_t m, int64_t n, int64_t k) {
  if (m < 0 || n < 0 || k < 0) return invalid_argument(where + "negative dimension");
  if (m > kMaxRows) {
    return invalid_argument(where + "M = " + std::to_string(m) + " exceeds " +
                            std::to_string(kMaxRows) +
                            " rows (use the int8 GEMM or a dense GEMM for larger M)");
  }
  if (k == 0) return invalid_argument(where + "K = 0: the product is empty");
  if (k % 16 != 0) {
    return invalid_argument(where + "K = " + std::to_string(k) +
                            " is not a multiple of 16 (rows are read in 16-byte pieces)");
  }
  if (n / 16 + 1 > std::numeric_limits<int32_t>::max()) {  // blocks of >= 16 rows
    return invalid_argument(where + "N too large for the grid");
  }
  return Status::ok();
}

Status check_pointers(const std::string& where, const __half* x, const float* bias, void* y,
                      WeightOnlyOutput output) {
  if (output != WeightOnlyOutput::kF32 && output != WeightOnlyOutput::kF16) {
    return invalid_argument(where + "unknown output kind " +
                            std::to_string(static_cast<int>(output)));
  }
  if (x == nullptr) return invalid_argument(where + "x is null");
  if (y == nullptr) return invalid_argument(where + "y is null");
  if (!aligned(x, 16)) return invalid_argument(where + "x is not 16-byte aligned");
  const std::size_t element = output == WeightOnlyOutput::kF32 ? 4 : 2;
  if (!aligned(y, element)) return invalid_argument(where + "y is not aligned to its elements");
  if (bias != nullptr && !aligned(bias, 4)) return invalid_argument(where + "bias is misaligned");
  return Status::ok();
}

}  // namespace

Status can_implement_w8a16(int64_t m, int64_t n, int64_t k) {
  return check_common(shape_text("w8a16_gemm", m, n, k), m, n, k);
}

Status can_implement_nf4(int64_t m, int64_t n, int64_t k, int64_t block_size) {
  const std::string where = shape_text("nf4_gemm", m, n, k);
  QRT_RETURN_IF_ERROR(check_common(where, m, n, k));
  if (!ir::is_valid_nf4_block_size(block_size)) {
    return invalid_argument(where + "block size " + std::to_string(block_size) +
                            " is not a power of two in " + std::to_string(ir::kNF4MinBlock) + ".." +
                            std::to_string(ir::kNF4MaxBlock));
  }
  if (k % block_size != 0) {
    return invalid_argument(where + "block size " + std::to_string(block_size) +
                            " does not divide K = " + std::to_string(k));
  }
  return Status::ok();
}

Status launch_w8a16_gemm(const __half* x, int64_t m, int64_t n, int64_t k, const Int8Weights& w,
                         const float* bias, WeightOnlyOutput output, void* y, cudaStream_t stream) {
  const std::string where = shape_text("launch_w8a16_gemm", m, n, k);
  QRT_RETURN_IF_ERROR(can_implement_w8a16(m, n, k));
  if (m == 0 || n == 0) return Status::ok();
  QRT_RETURN_IF_ERROR(check_pointers(where, x, bias, y, output));
  if (w.codes == nullptr) return invalid_argument(where + "weight codes are null");
  if (w.scales == nullptr) return invalid_argument(where + "weight scales are null");
  if (!aligned(w.codes, 16)) return invalid_argument(where + "weight codes not 16-byte aligned");
  const Int8Format format{w.codes, w.scales};
  return launch_format(x, m, n, k, format, bias, output, y, stream);
}

Status launch_nf4_gemm(const __half* x, int64_t m, int64_t n, int64_t k, const Nf4Weights& w,
                       const float* bias, WeightOnlyOutput output, void* y, cudaStream_t stream) {
  const std::string where = shape_text("launch_nf4_gemm", m, n, k);
  QRT_RETURN_IF_ERROR(can_implement_nf4(m, n, k, w.block_size));
  if (m == 0 || n == 0) return Status::ok();
  QRT_RETURN_IF_ERROR(check_pointers(where, x, bias, y, output));
  if (w.packed == nullptr) return invalid_argument(where + "packed codes are null");
  if (!aligned(w.packed, 16)) return invalid_argument(where + "packed codes not 16-byte aligned");
  if (w.absmax == nullptr) {
    if (w.absmax_codes == nullptr || w.group_scales == nullptr) {
      return invalid_argument(where +
                              "neither absmax nor double-quantized absmax (codes and group "
                              "scales) given");
    }
    if (w.group_size < 1) {
      return invalid_argument(where + "group_size " + std::to_string(w.group_size) +
                              " must be >= 1");
    }
    if (!(w.absmax_offset == w.absmax_offset)) {
      return invalid_argument(where + "absmax_offset is NaN");
    }
  }
  const Nf4Format format{w.packed,       w.block_size,    w.absmax,    w.absmax_codes,
                         w.group_scales, w.absmax_offset, w.group_size};
  return launch_format(x, m, n, k, format, bias, output, y, stream);
}

}  // namespace qrt::cuda::weight_only
