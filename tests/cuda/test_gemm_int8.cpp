// The fused int8 GEMM (cuda/gemm_int8/): raw int32 results equal ops::gemm_s8s8_s32_reference
// exactly for every tile configuration; the epilogue (scales, addend, bias, activation; f32, f16
// and requantized s8 outputs) against a double-precision CPU computation; the LLM.int8() outlier
// path against the same decomposition on the CPU. Host-side queries (can_implement,
// select_tile_config) and argument checks run everywhere; the rest skips without a GPU.
#include <doctest/doctest.h>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cuda/device_buffer.h"
#include "cuda/gemm_int8/fragment_layout.h"
#include "cuda/gemm_int8/gemm_int8.cuh"
#include "cuda/gemm_int8/outliers.cuh"
#include "cuda/quantize_rows.cuh"
#include "ir/quantize.h"
#include "ops/int8_gemm.h"
#include "tests/cuda/cuda_test_support.h"
#include "tests/support/gpu_guard.h"
#include "tests/support/random.h"

namespace {

using qrt::Status;
using qrt::StatusCode;
using qrt::cuda::ActivationKind;
using qrt::cuda::DeviceBuffer;
namespace gi = qrt::cuda::gemm_int8;
using namespace qrt::testing;  // the CUDA test helpers (cuda_test_support.h)

// f32 epilogue: the kernel rounds float(acc) (exact below 2^24), two scale products, two sums and
// the activation (<= 2 ulp, CUDA Math API): a few ulp of the largest term. 1e-5 relative to the
// sum of the magnitudes of the terms leaves margin; an indexing or formula error is O(1).
constexpr double kF32RelativeTolerance = 1e-5;
// GELU/SiLU near zero cancel in float (see tests/cuda/test_activation.cpp): absolute slack.
constexpr double kActivationAbsoluteTolerance = 1e-6;
// f16 output adds one rounding to 11 significant bits: half an ulp is 2^-11 relative.
constexpr double kF16RelativeTolerance = 1.0 / 1024;
// f16 underflow: values below 2^-14 are subnormal with absolute spacing 2^-24.
constexpr double kF16AbsoluteTolerance = 1e-7;
// Canary elements after each output; they must keep their poison.
constexpr std::size_t kCanary = 64;
constexpr unsigned char kPoisonByte = 0x7f;

std::vector<int8_t> random_int8(std::size_t n, uint64_t seed, int lo, int hi) {
  const std::vector<float> u = qrt::testing::random_floats(n, seed, 0.0f, 1.0f);
  std::vector<int8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int value = lo + static_cast<int>(u[i] * static_cast<float>(hi - lo + 1));
    v[i] = static_cast<int8_t>(std::min(value, hi));
  }
  return v;
}

std::vector<int32_t> reference_s32(const std::vector<int8_t>& a, const std::vector<int8_t>& b,
                                   int64_t m, int64_t n, int64_t k) {
  std::vector<int32_t> acc(static_cast<std::size_t>(m * n));
  const auto uk = static_cast<std::size_t>(k);
  qrt::ops::gemm_s8s8_s32_reference(a.data(), uk, b.data(), uk, acc.data(),
                                    static_cast<std::size_t>(n), static_cast<std::size_t>(m),
                                    static_cast<std::size_t>(n), uk);
  return acc;
}

struct Shape {
  int64_t m, n, k;
};

// ---------------------------------------------------------------------------------------------------
// Host-side queries: no GPU needed.

TEST_CASE("can_implement names what is wrong") {
  const gi::EpilogueSpec f32{};
  CHECK(gi::can_implement(128, 128, 64, 0, f32).is_ok());
  CHECK(gi::can_implement(0, 5, 16, 1, f32).is_ok());  // empty output

  Status s = gi::can_implement(4, 4, 100, 0, f32);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(contains(s.message(), "K = 100 is not a multiple of 16"));
  s = gi::can_implement(4, 4, 0, 0, f32);
  CHECK(contains(s.message(), "K = 0"));
  s = gi::can_implement(4, 4, gi::kMaxK + 16, 0, f32);
  CHECK(contains(s.message(), "overflow"));
  s = gi::can_implement(4, 4, 16, gi::kNumTileConfigs, f32);
  CHECK(contains(s.message(), "does not exist"));
  s = gi::can_implement(-1, 4, 16, 0, f32);
  CHECK(contains(s.message(), "negative"));

  float dummy = 1.0f;
  gi::EpilogueSpec s32_with_bias;
  s32_with_bias.output = gi::GemmOutput::kS32;
  s32_with_bias.bias = &dummy;
  s = gi::can_implement(4, 4, 16, 0, s32_with_bias);
  CHECK(contains(s.message(), "s32 output returns raw accumulators"));

  gi::EpilogueSpec s8_bad_scale;
  s8_bad_scale.output = gi::GemmOutput::kS8;
  s8_bad_scale.output_scale = 0.0f;
  s = gi::can_implement(4, 4, 16, 0, s8_bad_scale);
  CHECK(contains(s.message(), "output_scale"));

  gi::EpilogueSpec bad_activation;
  bad_activation.has_activation = true;
  bad_activation.activation = static_cast<ActivationKind>(42);
  CHECK(contains(gi::can_implement(4, 4, 16, 0, bad_activation).message(), "activation kind 42"));
}

TEST_CASE("tile configurations: table sanity and selection") {
  for (int c = 0; c < gi::kNumTileConfigs; ++c) {
    const gi::TileConfig& t = gi::kTileConfigs[c];
    INFO("config ", t.name);
    CHECK((t.block_k == 64 || t.block_k == 128));
    CHECK(t.block_m % (16 * t.warps_m) == 0);
    CHECK(t.block_n % (16 * t.warps_n) == 0);
    // Hopper: at most 227 KB of shared memory per block after opting in.
    CHECK(t.shared_memory_bytes() <= 227 * 1024);
    CHECK(gi::workspace_size(1024, 1024, 1024, c) == 0);
  }
  // A large problem takes the largest tile; a tiny one the smallest.
  CHECK(gi::select_tile_config(8192, 8192, 8192, 132) == 0);
  CHECK(gi::select_tile_config(1, 16, 64, 132) == gi::kNumTileConfigs - 1);
  CHECK(gi::tile_count(129, 257, gi::kNumTileConfigs - 1) == 3 * 5);  // 64×64 tiles
}

TEST_CASE("launch_gemm_int8 rejects bad arguments before touching the device") {
  alignas(16) int8_t a[64] = {};
  alignas(16) int8_t b[64] = {};
  alignas(16) float y[16] = {};
  const gi::EpilogueSpec f32{};
  Status s = gi::launch_gemm_int8(nullptr, b, 2, 2, 16, f32, y, 0, nullptr, 0, nullptr);
  CHECK(contains(s.message(), "a is null"));
  s = gi::launch_gemm_int8(a, b, 2, 2, 16, f32, nullptr, 0, nullptr, 0, nullptr);
  CHECK(contains(s.message(), "y is null"));
  s = gi::launch_gemm_int8(a + 1, b, 2, 2, 16, f32, y, 0, nullptr, 0, nullptr);
  CHECK(contains(s.message(), "a is not 16-byte aligned"));
  s = gi::launch_gemm_int8(a, b, 2, 2, 24, f32, y, 0, nullptr, 0, nullptr);
  CHECK(contains(s.message(), "multiple of 16"));
  CHECK(gi::launch_gemm_int8(a, b, 0, 2, 16, f32, y, 0, nullptr, 0, nullptr).is_ok());

  gi::EpilogueSpec with_rows;
  float dummy = 1.0f;
  with_rows.row_scales = &dummy;
  s = gi::launch_gemm_int8_outliers(static_cast<const float*>(nullptr), b, &dummy, 2, 2, 16, 6.0f,
                                    with_rows, y, 0, nullptr, 0, nullptr);
  CHECK(contains(s.message(), "must be null"));
  s = gi::launch_gemm_int8_outliers(static_cast<const float*>(nullptr), b, &dummy, 2, 2, 16, -1.0f,
                                    f32, y, 0, nullptr, 0, nullptr);
  CHECK(contains(s.message(), "threshold"));
}

// ---------------------------------------------------------------------------------------------------
// Host-side replay of the kernel's data movement: no GPU needed.
//
// The kernel's index math (cuda/gemm_int8/fragment_layout.h) is replayed on the CPU: the copy of
// every stage into the swizzled shared-memory layout, ldmatrix.x4 and mma.sync.m16n8k32 as the PTX
// ISA defines their fragments (written out below independently of the kernel), and the epilogue's
// output coordinates. The replayed product must equal the reference exactly and every output must
// be written once; each ldmatrix phase must also be free of bank conflicts.

// PTX ISA, "Matrix Fragments for mma.m16n8k32" (.s8): with groupID g = lane >> 2 and
// threadID_in_group t = lane % 4, element e (0..15) of A sits in register e / 4, byte e % 4, at
// row g for e < 4 or 8 <= e < 12 (else g + 8), column t·4 + (e & 3) (+ 16 for e >= 8).
int ptx_a_row(int lane, int e) {
  return (e < 4 || (e >= 8 && e < 12)) ? lane / 4 : lane / 4 + 8;
}
int ptx_a_col(int lane, int e) {
  return (lane % 4) * 4 + (e & 3) + (e >= 8 ? 16 : 0);
}
// B element e (0..7): register e / 4, byte e % 4, at row (k) t·4 + (e & 3) (+ 16 for e >= 4),
// column (n) g.
int ptx_b_row(int lane, int e) {
  return (lane % 4) * 4 + (e & 3) + (e >= 4 ? 16 : 0);
}
int ptx_b_col(int lane) {
  return lane / 4;
}
// C element e (0..3): row g (+ 8 for e >= 2), column t·2 + (e & 1).
int ptx_c_row(int lane, int e) {
  return lane / 4 + (e >= 2 ? 8 : 0);
}
int ptx_c_col(int lane, int e) {
  return (lane % 4) * 2 + (e & 1);
}

int8_t byte_of(uint32_t word, int byte) {
  return static_cast<int8_t>((word >> (8 * byte)) & 0xff);
}

// ldmatrix.x4 (PTX ISA, "ldmatrix"): lane l supplies the address of row l % 8 of matrix l / 8;
// lane T receives in register j the 4 bytes at column word T % 4 of row T / 4 of matrix j.
// Also checks that each matrix's 8 row reads hit 8 distinct 16-byte bank groups.
void replay_ldmatrix_x4(const std::vector<uint8_t>& shared, const int (&address)[32],
                        uint32_t (&regs)[32][4], int& conflicts) {
  for (int j = 0; j < 4; ++j) {
    bool used[8] = {};
    for (int r = 0; r < 8; ++r) {
      const int group = (address[j * 8 + r] / 16) % 8;
      if (used[group]) ++conflicts;
      used[group] = true;
    }
  }
  for (int lane = 0; lane < 32; ++lane) {
    for (int j = 0; j < 4; ++j) {
      const int at = address[j * 8 + lane / 4] + 4 * (lane % 4);
      REQUIRE(at >= 0);
      REQUIRE(static_cast<std::size_t>(at) + 4 <= shared.size());
      uint32_t word = 0;
      for (int b = 0; b < 4; ++b)
        word |= uint32_t{shared[static_cast<std::size_t>(at + b)]} << (8 * b);
      regs[lane][j] = word;
    }
  }
}

// Replays one launch of tile configuration `config`; returns the s32 output and counts writes.
std::vector<int32_t> replay_kernel(int config, const std::vector<int8_t>& a,
                                   const std::vector<int8_t>& b, int64_t m, int64_t n, int64_t k,
                                   std::vector<int>& writes, int& conflicts) {
  namespace L = gi::layout;
  const gi::TileConfig& c = gi::kTileConfigs[config];
  const int warp_rows = c.block_m / c.warps_m;
  const int warp_cols = c.block_n / c.warps_n;
  const int mma_m = warp_rows / 16;
  const int mma_n = warp_cols / 8;
  const int warps = c.warps_m * c.warps_n;
  const int tiles_m = static_cast<int>((m + c.block_m - 1) / c.block_m);
  const int tiles_n = static_cast<int>((n + c.block_n - 1) / c.block_n);
  const int block_k = c.block_k;
  const int k_tiles = static_cast<int>((k + block_k - 1) / block_k);
  std::vector<int32_t> y(static_cast<std::size_t>(m * n), std::numeric_limits<int32_t>::min());
  writes.assign(y.size(), 0);
  std::vector<uint8_t> shared_a(static_cast<std::size_t>(c.block_m * block_k));
  std::vector<uint8_t> shared_b(static_cast<std::size_t>(c.block_n * block_k));
  std::vector<int32_t> acc;
  auto acc_at = [&](int w, int i, int j, int lane, int e) -> int32_t& {
    return acc[static_cast<std::size_t>((((w * mma_m + i) * mma_n + j) * 32 + lane) * 4 + e)];
  };
  // Copies one operand's stage like load_stage: pieces p = 0 .. rows·4 - 1.
  auto copy_stage = [&](std::vector<uint8_t>& shared, const std::vector<int8_t>& source, int rows,
                        int64_t first_row, int64_t row_limit, int kt) {
    std::fill(shared.begin(), shared.end(), uint8_t{0xcd});  // garbage: unwritten bytes show
    for (int p = 0; p < rows * L::pieces_per_row(block_k); ++p) {
      const int row = L::copy_row(p, block_k);
      const int piece = L::copy_piece(p, block_k);
      const int64_t global_row = first_row + row;
      const int64_t global_k = static_cast<int64_t>(kt) * block_k + piece * 16;
      const bool valid = global_row < row_limit && global_k < k;
      const int at = L::swizzled_offset(row, piece, block_k);
      REQUIRE(at + 16 <= static_cast<int>(shared.size()));
      for (int byte = 0; byte < 16; ++byte)
        shared[static_cast<std::size_t>(at + byte)] =
            valid ? static_cast<uint8_t>(
                        source[static_cast<std::size_t>(global_row * k + global_k + byte)])
                  : uint8_t{0};
    }
  };
  for (int block = 0; block < tiles_m * tiles_n; ++block) {
    int tm = 0;
    int tn = 0;
    L::tile_index(block, tiles_m, tiles_n, tm, tn);
    REQUIRE(tm < tiles_m);
    REQUIRE(tn < tiles_n);
    const int64_t row0 = static_cast<int64_t>(tm) * c.block_m;
    const int64_t col0 = static_cast<int64_t>(tn) * c.block_n;
    acc.assign(static_cast<std::size_t>(warps * mma_m * mma_n * 32 * 4), 0);
    for (int kt = 0; kt < k_tiles; ++kt) {
      copy_stage(shared_a, a, c.block_m, row0, m, kt);
      copy_stage(shared_b, b, c.block_n, col0, n, kt);
      for (int w = 0; w < warps; ++w) {
        const int warp_m = w / c.warps_n;
        const int warp_n = w % c.warps_n;
        for (int ks = 0; ks < block_k / 32; ++ks) {
          std::vector<std::array<std::array<uint32_t, 4>, 32>> frag_a(
              static_cast<std::size_t>(mma_m));
          std::vector<std::array<std::array<uint32_t, 2>, 32>> frag_b(
              static_cast<std::size_t>(mma_n));
          for (int i = 0; i < mma_m; ++i) {
            int address[32];
            for (int lane = 0; lane < 32; ++lane)
              address[lane] = L::swizzled_offset(L::a_ldmatrix_row(warp_m * warp_rows, i, lane),
                                                 L::a_ldmatrix_piece(ks, lane), block_k);
            uint32_t regs[32][4];
            replay_ldmatrix_x4(shared_a, address, regs, conflicts);
            for (int lane = 0; lane < 32; ++lane)
              for (int r = 0; r < 4; ++r)
                frag_a[static_cast<std::size_t>(i)][lane][r] = regs[lane][r];
          }
          for (int jj = 0; jj < mma_n / 2; ++jj) {
            int address[32];
            for (int lane = 0; lane < 32; ++lane)
              address[lane] = L::swizzled_offset(L::b_ldmatrix_row(warp_n * warp_cols, jj, lane),
                                                 L::b_ldmatrix_piece(ks, lane), block_k);
            uint32_t regs[32][4];
            replay_ldmatrix_x4(shared_b, address, regs, conflicts);
            for (int lane = 0; lane < 32; ++lane) {
              frag_b[static_cast<std::size_t>(2 * jj)][lane] = {regs[lane][0], regs[lane][1]};
              frag_b[static_cast<std::size_t>(2 * jj + 1)][lane] = {regs[lane][2], regs[lane][3]};
            }
          }
          // mma.sync m16n8k32: gather A (16×32) and B (32×8) from the lanes' registers by the PTX
          // layouts, multiply, and scatter C back.
          for (int i = 0; i < mma_m; ++i) {
            for (int j = 0; j < mma_n; ++j) {
              int32_t tile_a[16][32] = {};
              int32_t tile_b[32][8] = {};
              for (int lane = 0; lane < 32; ++lane) {
                for (int e = 0; e < 16; ++e)
                  tile_a[ptx_a_row(lane, e)][ptx_a_col(lane, e)] =
                      byte_of(frag_a[static_cast<std::size_t>(i)][lane][e / 4], e % 4);
                for (int e = 0; e < 8; ++e)
                  tile_b[ptx_b_row(lane, e)][ptx_b_col(lane)] =
                      byte_of(frag_b[static_cast<std::size_t>(j)][lane][e / 4], e % 4);
              }
              for (int lane = 0; lane < 32; ++lane)
                for (int e = 0; e < 4; ++e) {
                  int32_t sum = 0;
                  for (int kk = 0; kk < 32; ++kk)
                    sum += tile_a[ptx_c_row(lane, e)][kk] * tile_b[kk][ptx_c_col(lane, e)];
                  acc_at(w, i, j, lane, e) += sum;
                }
            }
          }
        }
      }
    }
    // Epilogue coordinates, as in the kernel.
    for (int w = 0; w < warps; ++w) {
      const int warp_m = w / c.warps_n;
      const int warp_n = w % c.warps_n;
      for (int i = 0; i < mma_m; ++i)
        for (int j = 0; j < mma_n; ++j)
          for (int lane = 0; lane < 32; ++lane)
            for (int half = 0; half < 2; ++half)
              for (int e = 0; e < 2; ++e) {
                const int64_t row = row0 + warp_m * warp_rows + L::accumulator_row(i, half, lane);
                const int64_t col = col0 + warp_n * warp_cols + L::accumulator_col(j, lane) + e;
                if (row >= m || col >= n) continue;
                y[static_cast<std::size_t>(row * n + col)] = acc_at(w, i, j, lane, 2 * half + e);
                ++writes[static_cast<std::size_t>(row * n + col)];
              }
    }
  }
  return y;
}

TEST_CASE("host replay of every tile config's index math reproduces A·Bᵀ exactly") {
  const Shape shapes[] = {{1, 1, 16}, {70, 75, 96}, {130, 261, 208}};
  for (std::size_t si = 0; si < std::size(shapes); ++si) {
    const Shape shape = shapes[si];
    const uint64_t seed = 10000 + si;
    INFO("M = ", shape.m, ", N = ", shape.n, ", K = ", shape.k, ", seed = ", seed);
    const auto a = random_int8(static_cast<std::size_t>(shape.m * shape.k), seed, -128, 127);
    const auto b = random_int8(static_cast<std::size_t>(shape.n * shape.k), seed + 1, -128, 127);
    const auto expected = reference_s32(a, b, shape.m, shape.n, shape.k);
    for (int config = 0; config < gi::kNumTileConfigs; ++config) {
      INFO("config ", gi::kTileConfigs[config].name);
      std::vector<int> writes;
      int conflicts = 0;
      const auto got = replay_kernel(config, a, b, shape.m, shape.n, shape.k, writes, conflicts);
      CHECK(got == expected);
      CHECK(std::count(writes.begin(), writes.end(), 1) ==
            static_cast<std::ptrdiff_t>(writes.size()));
      CHECK(conflicts == 0);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Exactness of the int32 accumulators.

const Shape kShapes[] = {
    {1, 1, 16},     {1, 8, 64},     {7, 13, 48},      {37, 61, 112},   {64, 64, 64},
    {128, 256, 64}, {129, 257, 80}, {200, 300, 1024}, {257, 131, 528}, {3, 1031, 4096},
};

TEST_CASE("s32 output equals gemm_s8s8_s32_reference for every tile config and shape") {
  QRT_REQUIRE_GPU();
  for (std::size_t si = 0; si < std::size(kShapes); ++si) {
    const Shape shape = kShapes[si];
    if (sanitizer_quick_mode() && shape.m * shape.n * shape.k > kQuickModeMaxWork) continue;
    const uint64_t seed = 11000 + si;
    INFO("M = ", shape.m, ", N = ", shape.n, ", K = ", shape.k, ", seed = ", seed);
    // The full int8 range, -128 included: K <= 2^17 keeps the int32 sums exact.
    const auto a = random_int8(static_cast<std::size_t>(shape.m * shape.k), seed, -128, 127);
    const auto b = random_int8(static_cast<std::size_t>(shape.n * shape.k), seed + 500, -128, 127);
    const auto expected = reference_s32(a, b, shape.m, shape.n, shape.k);
    bool nonzero = false;
    for (const int32_t v : expected) nonzero |= v != 0;
    REQUIRE(nonzero);
    auto device_a = upload(a);
    auto device_b = upload(b);
    gi::EpilogueSpec raw;
    raw.output = gi::GemmOutput::kS32;
    for (int config = gi::kAutoConfig; config < gi::kNumTileConfigs; ++config) {
      INFO("config ", config < 0 ? "auto" : gi::kTileConfigs[config].name);
      const std::size_t used = expected.size() * sizeof(int32_t);
      DeviceBuffer y = poisoned(used + kCanary * sizeof(int32_t), kPoisonByte);
      const Status status =
          gi::launch_gemm_int8(device_a.as<const int8_t>(), device_b.as<const int8_t>(), shape.m,
                               shape.n, shape.k, raw, y.data(), config, nullptr, 0, nullptr);
      REQUIRE_MESSAGE(status.is_ok(), status.to_string());
      REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
      const auto bytes = download_bytes(y);
      std::vector<int32_t> got(expected.size());
      std::memcpy(got.data(), bytes.data(), used);
      int64_t first = -1;
      std::size_t mismatches = 0;
      for (std::size_t i = 0; i < got.size(); ++i) {
        if (got[i] != expected[i]) {
          if (first < 0) first = static_cast<int64_t>(i);
          ++mismatches;
        }
      }
      if (first >= 0) {
        INFO("first mismatch at row ", first / shape.n, " col ", first % shape.n, ": got ",
             got[static_cast<std::size_t>(first)], ", expected ",
             expected[static_cast<std::size_t>(first)], " (", mismatches, " mismatches)");
        CHECK(mismatches == 0);
      }
      CHECK(canary_damage(bytes, used, kPoisonByte) == 0);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// The epilogue.

struct EpilogueInputs {
  std::vector<float> row_scales, column_scales, bias, addend;
};

// v[m, n] in double from the exact accumulators, and the magnitude sum of its terms (for the
// tolerance).
void reference_epilogue(const std::vector<int32_t>& acc, const EpilogueInputs& in,
                        const gi::EpilogueSpec& spec, int64_t m, int64_t n,
                        std::vector<double>& value, std::vector<double>& magnitude) {
  value.resize(acc.size());
  magnitude.resize(acc.size());
  for (int64_t r = 0; r < m; ++r) {
    for (int64_t c = 0; c < n; ++c) {
      const auto i = static_cast<std::size_t>(r * n + c);
      double v = acc[i];
      if (spec.row_scales) v *= in.row_scales[static_cast<std::size_t>(r)];
      if (spec.column_scales) v *= in.column_scales[static_cast<std::size_t>(c)];
      double mag = std::fabs(v);
      if (spec.addend) {
        v += in.addend[i];
        mag += std::fabs(in.addend[i]);
      }
      if (spec.bias) {
        v += in.bias[static_cast<std::size_t>(c)];
        mag += std::fabs(in.bias[static_cast<std::size_t>(c)]);
      }
      if (spec.has_activation) v = activation_reference(spec.activation, v, spec.activation_param);
      value[i] = v;
      magnitude[i] = mag;
    }
  }
}

TEST_CASE("epilogue: scales, addend, bias and every activation, f32 / f16 / s8 outputs") {
  QRT_REQUIRE_GPU();
  const Shape shapes[] = {{1, 7, 32}, {67, 129, 208}, {130, 260, 1024}};
  const ActivationKind activations[] = {ActivationKind::kRelu,    ActivationKind::kLeakyRelu,
                                        ActivationKind::kGeluErf, ActivationKind::kGeluTanh,
                                        ActivationKind::kSilu,    ActivationKind::kSigmoid,
                                        ActivationKind::kTanh};
  for (std::size_t si = 0; si < std::size(shapes); ++si) {
    const Shape shape = shapes[si];
    if (sanitizer_quick_mode() && shape.m * shape.n * shape.k > kQuickModeMaxWork) continue;
    const uint64_t seed = 12000 + 10 * si;
    INFO("M = ", shape.m, ", N = ", shape.n, ", K = ", shape.k, ", seed = ", seed);
    const auto mu = static_cast<std::size_t>(shape.m);
    const auto nu = static_cast<std::size_t>(shape.n);
    const auto a = random_int8(mu * static_cast<std::size_t>(shape.k), seed, -127, 127);
    const auto b = random_int8(nu * static_cast<std::size_t>(shape.k), seed + 1, -127, 127);
    const auto acc = reference_s32(a, b, shape.m, shape.n, shape.k);
    // Scales so that v is O(1): |acc| ~ 127²·√K/3.
    const float typical = 127.0f * 127.0f * std::sqrt(static_cast<float>(shape.k)) / 3.0f;
    EpilogueInputs in;
    in.row_scales = qrt::testing::random_floats(mu, seed + 2, 0.5f / typical, 2.0f / typical);
    in.column_scales = qrt::testing::random_floats(nu, seed + 3, 0.5f, 2.0f);
    in.bias = qrt::testing::random_floats(nu, seed + 4, -1.0f, 1.0f);
    in.addend = qrt::testing::random_floats(mu * nu, seed + 5, -0.5f, 0.5f);
    auto device_a = upload(a);
    auto device_b = upload(b);
    auto device_rows = upload(in.row_scales);
    auto device_columns = upload(in.column_scales);
    auto device_bias = upload(in.bias);
    auto device_addend = upload(in.addend);

    // Every activation with f32 output (plus one without), then f16 and s8 outputs.
    struct Case {
      gi::GemmOutput output;
      bool has_activation;
      ActivationKind activation;
    };
    std::vector<Case> cases;
    cases.push_back({gi::GemmOutput::kF32, false, ActivationKind::kRelu});
    for (const ActivationKind kind : activations)
      cases.push_back({gi::GemmOutput::kF32, true, kind});
    cases.push_back({gi::GemmOutput::kF16, true, ActivationKind::kGeluErf});
    cases.push_back({gi::GemmOutput::kF16, false, ActivationKind::kRelu});
    cases.push_back({gi::GemmOutput::kS8, true, ActivationKind::kSilu});
    cases.push_back({gi::GemmOutput::kS8, false, ActivationKind::kRelu});

    for (std::size_t ci = 0; ci < cases.size(); ++ci) {
      const Case& c = cases[ci];
      gi::EpilogueSpec spec;
      spec.output = c.output;
      spec.row_scales = device_rows.as<const float>();
      spec.column_scales = device_columns.as<const float>();
      spec.bias = device_bias.as<const float>();
      // The addend on every other case, so both paths run.
      spec.addend = ci % 2 == 0 ? device_addend.as<const float>() : nullptr;
      spec.has_activation = c.has_activation;
      spec.activation = c.activation;
      spec.activation_param = 0.13f;
      std::vector<double> expected, magnitude;
      reference_epilogue(acc, in, spec, shape.m, shape.n, expected, magnitude);
      double max_abs_expected = 0.0;
      for (const double v : expected) max_abs_expected = std::max(max_abs_expected, std::fabs(v));
      REQUIRE(max_abs_expected > 0.0);
      spec.output_scale = static_cast<float>(max_abs_expected / 100.0);  // codes mostly in range

      const int config = static_cast<int>(ci % gi::kNumTileConfigs);
      INFO("case ", ci, ": output ", gi::gemm_output_name(c.output), ", activation ",
           c.has_activation ? qrt::cuda::activation_name(c.activation) : "none", ", addend ",
           spec.addend != nullptr, ", config ", gi::kTileConfigs[config].name);
      const std::size_t element = static_cast<std::size_t>(gi::gemm_output_bytes(c.output));
      const std::size_t used = expected.size() * element;
      DeviceBuffer y = poisoned(used + kCanary * element, kPoisonByte);
      const Status status =
          gi::launch_gemm_int8(device_a.as<const int8_t>(), device_b.as<const int8_t>(), shape.m,
                               shape.n, shape.k, spec, y.data(), config, nullptr, 0, nullptr);
      REQUIRE_MESSAGE(status.is_ok(), status.to_string());
      REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
      const auto bytes = download_bytes(y);
      CHECK(canary_damage(bytes, used, kPoisonByte) == 0);

      std::size_t bad = 0;
      int64_t first = -1;
      double first_got = 0.0;
      std::size_t off_by_one = 0;
      for (std::size_t i = 0; i < expected.size(); ++i) {
        double got = 0.0;
        bool ok = false;
        const double act_slack = c.has_activation ? kActivationAbsoluteTolerance : 0.0;
        const double f32_tol = kF32RelativeTolerance * magnitude[i] + act_slack;
        if (c.output == gi::GemmOutput::kF32) {
          float v;
          std::memcpy(&v, bytes.data() + i * 4, 4);
          got = v;
          ok = std::fabs(got - expected[i]) <= f32_tol;
        } else if (c.output == gi::GemmOutput::kF16) {
          __half h;
          std::memcpy(&h, bytes.data() + i * 2, 2);
          got = __half2float(h);
          ok = std::fabs(got - expected[i]) <=
               f32_tol + kF16RelativeTolerance * std::fabs(expected[i]) + kF16AbsoluteTolerance;
        } else {
          const auto code = static_cast<int8_t>(bytes[i]);
          got = code;
          // round-half-even(v / s) clamped; the float v may sit on the other side of a half-way
          // point than the double one, so a code may differ by one where v/s is within the f32
          // tolerance of a half-integer.
          const double q = expected[i] / spec.output_scale;
          const double want = std::clamp(std::nearbyint(q), -127.0, 127.0);
          const double q_tol = f32_tol / spec.output_scale;
          if (code == want) {
            ok = true;
          } else if (std::fabs(code - want) == 1.0 &&
                     std::fabs(std::fabs(q - std::floor(q)) - 0.5) <= q_tol) {
            ok = true;
            ++off_by_one;
          }
        }
        if (!ok) {
          if (first < 0) {
            first = static_cast<int64_t>(i);
            first_got = got;
          }
          ++bad;
        }
      }
      if (first >= 0) {
        INFO("first bad element row ", first / shape.n, " col ", first % shape.n, ": got ",
             first_got, ", expected ", expected[static_cast<std::size_t>(first)], " (", bad,
             " bad)");
        CHECK(bad == 0);
      }
      CHECK(off_by_one <= expected.size() / 100);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// LLM.int8() outlier decomposition.

// y = Σ_{k∉O} q_x·q_w·s_x·s_w + Σ_{k∈O} x·q_w·s_w + bias on the CPU, O = columns with some
// |x| > threshold, q_x from ir::quantize_symmetric per row of x with O zeroed.
std::vector<double> reference_outliers(const std::vector<float>& x, const qrt::ir::Int8Weight& w,
                                       const std::vector<float>& bias, int64_t m, int64_t n,
                                       int64_t k, float threshold, std::vector<double>& magnitude,
                                       int64_t& outlier_count) {
  std::vector<bool> outlier(static_cast<std::size_t>(k), false);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t c = 0; c < k; ++c)
      if (std::fabs(x[static_cast<std::size_t>(r * k + c)]) > threshold)
        outlier[static_cast<std::size_t>(c)] = true;
  outlier_count = std::count(outlier.begin(), outlier.end(), true);
  std::vector<float> masked = x;
  for (int64_t r = 0; r < m; ++r)
    for (int64_t c = 0; c < k; ++c)
      if (outlier[static_cast<std::size_t>(c)]) masked[static_cast<std::size_t>(r * k + c)] = 0.0f;
  qrt::ir::QuantizeSpec spec;
  spec.granularity = qrt::ir::Granularity::kPerRow;
  auto q = qrt::ir::quantize_symmetric({masked, {m, k}}, spec);
  REQUIRE(q.is_ok());
  auto codes = qrt::ir::to_int8(*q);
  REQUIRE(codes.is_ok());
  const auto acc = reference_s32(*codes, w.codes, m, n, k);
  std::vector<double> y(static_cast<std::size_t>(m * n));
  magnitude.assign(y.size(), 0.0);
  for (int64_t r = 0; r < m; ++r) {
    for (int64_t c = 0; c < n; ++c) {
      const auto i = static_cast<std::size_t>(r * n + c);
      const double sw = w.params.scales[static_cast<std::size_t>(c)];
      double v = acc[i] * static_cast<double>(q->params.scales[static_cast<std::size_t>(r)]) * sw;
      double mag = std::fabs(v);
      for (int64_t j = 0; j < k; ++j) {
        if (!outlier[static_cast<std::size_t>(j)]) continue;
        const double term = static_cast<double>(x[static_cast<std::size_t>(r * k + j)]) *
                            w.codes[static_cast<std::size_t>(c * k + j)] * sw;
        v += term;
        mag += std::fabs(term);
      }
      v += bias[static_cast<std::size_t>(c)];
      y[i] = v;
      magnitude[i] = mag + std::fabs(bias[static_cast<std::size_t>(c)]);
    }
  }
  return y;
}

TEST_CASE("LLM.int8() outlier path matches the CPU decomposition and beats plain int8") {
  QRT_REQUIRE_GPU();
  const int64_t m = 19;
  const int64_t n = 71;
  const int64_t k = 320;
  const float threshold = 6.0f;
  const uint64_t seed = 13000;
  INFO("M = ", m, ", N = ", n, ", K = ", k, ", seed = ", seed);
  std::vector<float> x = qrt::testing::random_normal(static_cast<std::size_t>(m * k), seed, 1.0f);
  // Columns 5, 97 and 301 carry outliers of magnitude ~40 in a few rows, as in LLM.int8()'s
  // observation of systematic outlier features.
  for (const int64_t c : {int64_t{5}, int64_t{97}, int64_t{301}})
    for (int64_t r = 0; r < m; r += 3) x[static_cast<std::size_t>(r * k + c)] = 40.0f - r;
  const std::vector<float> w_float =
      qrt::testing::random_normal(static_cast<std::size_t>(n * k), seed + 1, 0.05f);
  auto w = qrt::ir::quantize_weight_per_channel({w_float, {n, k}});
  REQUIRE(w.is_ok());
  const std::vector<float> bias =
      qrt::testing::random_floats(static_cast<std::size_t>(n), seed + 2);

  std::vector<double> magnitude;
  int64_t outliers = 0;
  const std::vector<double> expected =
      reference_outliers(x, *w, bias, m, n, k, threshold, magnitude, outliers);
  MESSAGE("outlier columns: " << outliers);
  REQUIRE(outliers >= 3);

  auto device_x = upload(x);
  std::vector<__half> x_half(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) x_half[i] = __float2half_rn(x[i]);
  auto device_x_half = upload(x_half);
  auto device_w = upload(w->codes);
  auto device_scales = upload(w->params.scales);
  auto device_bias = upload(bias);
  const std::size_t workspace_bytes = gi::outlier_workspace_size(m, n, k);
  auto workspace = DeviceBuffer::allocate(workspace_bytes);
  REQUIRE(workspace.is_ok());

  gi::EpilogueSpec spec;
  spec.output = gi::GemmOutput::kF32;
  spec.bias = device_bias.as<const float>();
  const std::size_t used = expected.size() * sizeof(float);
  DeviceBuffer y = poisoned(used + kCanary * sizeof(float), kPoisonByte);
  Status status = gi::launch_gemm_int8_outliers(
      device_x.as<const float>(), device_w.as<const int8_t>(), device_scales.as<const float>(), m,
      n, k, threshold, spec, y.data(), gi::kAutoConfig, workspace->data(), workspace_bytes,
      nullptr);
  REQUIRE_MESSAGE(status.is_ok(), status.to_string());
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  auto bytes = download_bytes(y);
  CHECK(canary_damage(bytes, used, kPoisonByte) == 0);
  std::vector<float> got(expected.size());
  std::memcpy(got.data(), bytes.data(), used);
  std::size_t bad = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    bad += !(std::fabs(got[i] - expected[i]) <= kF32RelativeTolerance * magnitude[i]);
  CHECK(bad == 0);

  // Against the float product x·Ŵᵀ + b (Ŵ the dequantized int8 weight), the outlier path must be
  // clearly more accurate than quantizing x with its outliers (which crushes the other columns).
  std::vector<double> exact(expected.size());
  for (int64_t r = 0; r < m; ++r)
    for (int64_t c = 0; c < n; ++c) {
      double v = bias[static_cast<std::size_t>(c)];
      for (int64_t j = 0; j < k; ++j)
        v += static_cast<double>(x[static_cast<std::size_t>(r * k + j)]) *
             w->codes[static_cast<std::size_t>(c * k + j)] *
             w->params.scales[static_cast<std::size_t>(c)];
      exact[static_cast<std::size_t>(r * n + c)] = v;
    }
  auto rel_error = [&](const std::vector<float>& y_got) {
    double num = 0.0, den = 0.0;
    for (std::size_t i = 0; i < exact.size(); ++i) {
      num += (y_got[i] - exact[i]) * (y_got[i] - exact[i]);
      den += exact[i] * exact[i];
    }
    return std::sqrt(num / den);
  };
  // Plain int8: quantize_rows on the GPU, then the GEMM with the same epilogue.
  auto codes = DeviceBuffer::allocate(static_cast<std::size_t>(m * k));
  auto row_scales = DeviceBuffer::allocate(static_cast<std::size_t>(m) * sizeof(float));
  REQUIRE(codes.is_ok());
  REQUIRE(row_scales.is_ok());
  REQUIRE(qrt::cuda::launch_quantize_rows(device_x.as<const float>(), m, k, codes->as<int8_t>(),
                                          row_scales->as<float>(), nullptr, nullptr)
              .is_ok());
  gi::EpilogueSpec plain = spec;
  plain.row_scales = row_scales->as<const float>();
  plain.column_scales = device_scales.as<const float>();
  DeviceBuffer y_plain = poisoned(used, kPoisonByte);
  REQUIRE(gi::launch_gemm_int8(codes->as<const int8_t>(), device_w.as<const int8_t>(), m, n, k,
                               plain, y_plain.data(), gi::kAutoConfig, nullptr, 0, nullptr)
              .is_ok());
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  std::vector<float> got_plain(expected.size());
  REQUIRE(cudaMemcpy(got_plain.data(), y_plain.data(), used, cudaMemcpyDeviceToHost) ==
          cudaSuccess);
  const double outlier_error = rel_error(got);
  const double plain_error = rel_error(got_plain);
  MESSAGE("relative error vs float: outlier path " << outlier_error << ", plain int8 "
                                                   << plain_error);
  CHECK(outlier_error < 0.5 * plain_error);

  // f16 input through the same path: compare with the f32-input result (x rounded to f16 moves
  // each term by <= 2^-11 relative).
  DeviceBuffer y_half = poisoned(used, kPoisonByte);
  status =
      gi::launch_gemm_int8_outliers(device_x_half.as<const __half>(), device_w.as<const int8_t>(),
                                    device_scales.as<const float>(), m, n, k, threshold, spec,
                                    y_half.data(), 1, workspace->data(), workspace_bytes, nullptr);
  REQUIRE_MESSAGE(status.is_ok(), status.to_string());
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  std::vector<float> got_half(expected.size());
  REQUIRE(cudaMemcpy(got_half.data(), y_half.data(), used, cudaMemcpyDeviceToHost) == cudaSuccess);
  CHECK(rel_error(got_half) < 0.5 * plain_error);

  // An infinite threshold means no outliers: the result equals the plain int8 path exactly.
  DeviceBuffer y_none = poisoned(used, kPoisonByte);
  REQUIRE(gi::launch_gemm_int8_outliers(
              device_x.as<const float>(), device_w.as<const int8_t>(),
              device_scales.as<const float>(), m, n, k, std::numeric_limits<float>::infinity(),
              spec, y_none.data(), gi::kAutoConfig, workspace->data(), workspace_bytes, nullptr)
              .is_ok());
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  std::vector<float> got_none(expected.size());
  REQUIRE(cudaMemcpy(got_none.data(), y_none.data(), used, cudaMemcpyDeviceToHost) == cudaSuccess);
  // Same codes, scales and accumulators; the only difference is "+ 0.0f" from the empty addend.
  CHECK(got_none == got_plain);
}

}  // namespace
