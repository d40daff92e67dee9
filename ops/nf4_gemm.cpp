#include "ops/nf4_gemm.h"

#include <array>
#include <limits>

#include "ir/quant_formats.h"
#include "ops/cpu_parallel.h"
#include "ops/nf4_gemm_kernels.h"

namespace qrt::ops {

namespace {

// Multiply-adds below which one thread is faster than starting another.
constexpr std::size_t kMinMacsPerThread = std::size_t{1} << 21;

// The definition: dequantize each weight exactly as dequantize_nf4 does (codebook value times the
// block's absmax, in float) and accumulate the dot product in double, so that the reference is
// more accurate than any float kernel compared with it.
void columns_reference(const Nf4GemmArgs& p, std::size_t n_begin, std::size_t n_end) {
  const std::size_t blocks_per_row = p.k / p.block_size;
  for (std::size_t i = 0; i < p.m; ++i) {
    const float* x = p.x + i * p.k;
    for (std::size_t j = n_begin; j < n_end; ++j) {
      const uint8_t* row = p.packed + j * (p.k / 2);
      double sum = 0.0;
      for (std::size_t kk = 0; kk < p.k; ++kk) {
        const uint8_t byte = row[kk / 2];
        const unsigned code = (kk % 2 == 0) ? (byte >> ir::kNF4HighNibbleShift) : (byte & 0x0f);
        const float w = ir::kNF4Codebook[code] * p.absmax[j * blocks_per_row + kk / p.block_size];
        sum += static_cast<double>(x[kk]) * static_cast<double>(w);
      }
      if (p.bias != nullptr) sum += p.bias[j];
      p.y[i * p.n + j] = static_cast<float>(sum);
    }
  }
}

bool always(const CpuFeatures&) {
  return true;
}

bool has_avx2_fma(const CpuFeatures& f) {
  return f.avx2 && f.fma;
}
bool has_avx512(const CpuFeatures& f) {
  return f.avx512f && f.avx512bw && f.avx512vl;
}

// column_grain: each kernel's column tile, so a thread split never cuts one.
constexpr std::array<Nf4GemmImplementation, 3> kImplementations = {{
    {"avx512", &nf4_gemm_columns_avx512, &has_avx512, 3},
    {"avx2", &nf4_gemm_columns_avx2, &has_avx2_fma, 2},
    {"portable", &columns_reference, &always, 1},
}};

}  // namespace

bool nf4_gemm_arguments_valid(const Nf4GemmArgs& p) {
  if (!ir::is_valid_nf4_block_size(static_cast<int64_t>(p.block_size))) return false;
  if (p.k % p.block_size != 0) return false;
  if (p.m * p.n != 0 && p.y == nullptr) return false;
  if (p.m * p.k != 0 && p.x == nullptr) return false;
  if (p.n * p.k != 0 && (p.packed == nullptr || p.absmax == nullptr)) return false;
  return true;
}

std::span<const Nf4GemmImplementation> nf4_gemm_implementations() {
  return kImplementations;
}

const Nf4GemmImplementation& best_nf4_gemm_implementation() {
  static const Nf4GemmImplementation& best = []() -> const Nf4GemmImplementation& {
    for (const auto& impl : kImplementations) {
      if (impl.supported(cpu_features())) return impl;
    }
    return kImplementations.back();
  }();
  return best;
}

void run_nf4_gemm(const Nf4GemmImplementation& impl, const Nf4GemmArgs& args, std::size_t threads) {
  if (args.m == 0 || args.n == 0) return;
  if (!nf4_gemm_arguments_valid(args)) {
    // The entry points return nothing, so a violated precondition must still not read out of
    // bounds; NaN makes the misuse visible downstream.
    if (args.y != nullptr) {
      for (std::size_t i = 0; i < args.m * args.n; ++i) {
        args.y[i] = std::numeric_limits<float>::quiet_NaN();
      }
    }
    return;
  }
  const std::size_t useful = std::max<std::size_t>(1, args.m * args.n * args.k / kMinMacsPerThread);
  parallel_split(args.n, impl.column_grain, std::min(threads, useful),
                 [&](std::size_t begin, std::size_t end) { impl.columns(args, begin, end); });
}

void nf4_gemm_f32(const float* x, std::size_t m, const uint8_t* packed, const float* absmax,
                  std::size_t n, std::size_t k, std::size_t block_size, const float* bias,
                  float* y) {
  run_nf4_gemm(best_nf4_gemm_implementation(),
               Nf4GemmArgs{x, m, packed, absmax, n, k, block_size, bias, y}, default_cpu_threads());
}

void nf4_gemm_f32_reference(const float* x, std::size_t m, const uint8_t* packed,
                            const float* absmax, std::size_t n, std::size_t k,
                            std::size_t block_size, const float* bias, float* y) {
  run_nf4_gemm(kImplementations.back(),
               Nf4GemmArgs{x, m, packed, absmax, n, k, block_size, bias, y}, 1);
}

const char* nf4_gemm_implementation() {
  return best_nf4_gemm_implementation().name;
}

}  // namespace qrt::ops
