// int8 GEMM, weight-only GEMV / small-M GEMM and row-quantization GPU benchmark cases
// (bench_cuda_gemm.h).
//
// Method (performance.md, the device-work method): CUDA events around each launch on one stream,
// kRuns.warmup warm-up runs, then the median of kRuns.timed timed runs (bench_cuda_timing.h).
// Weights are rotated over enough sets to exceed 2× the 50 MB L2, so every timed run reads its
// weights from HBM as a real layer would. Inputs are random (never zeros). Before timing, each int8
// GEMM case checks a sample of its int32 results against a CPU dot product, so a fast but wrong
// kernel shows as FAILED.
//
// The anchors (cuBLASLt int8 TN via torch._int_mm, cuBLAS FP16 GEMV) are measured by
// ../shared/anchors/gpu_anchor*.py in the same job (scripts/gpu-bench.sh prints the ratios).
#include "tools/bench/bench_cuda_gemm.h"

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cuda/cuda_status.h"
#include "cuda/device.h"
#include "cuda/device_buffer.h"
#include "cuda/gemm_int8/gemm_int8.cuh"
#include "cuda/quantize_rows.cuh"
#include "cuda/weight_only/weight_only.cuh"
#include "ir/quant_formats.h"
#include "tools/bench/bench_cuda_timing.h"

namespace qrt::bench {

namespace {

namespace gi = cuda::gemm_int8;
namespace wo = cuda::weight_only;

constexpr TimingRuns kRuns{/*warmup=*/10, /*timed=*/30};
// Weight bytes per rotation: more than twice the H100's 50 MB L2.
constexpr std::size_t kRotationBytes = std::size_t{120} << 20;
constexpr int kSpotChecks = 64;

// Fast reproducible bytes (xorshift64*): hundreds of MB of test data in well under a second.
std::vector<int8_t> random_bytes(std::size_t n, uint64_t seed) {
  std::vector<int8_t> v(n);
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  for (std::size_t i = 0; i < n; ++i) {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    v[i] = static_cast<int8_t>((state * 0x2545F4914F6CDD1Dull) >> 56);
  }
  return v;
}

int rotation_sets(std::size_t bytes_per_set) {
  return static_cast<int>(
      std::max<std::size_t>(1, (kRotationBytes + bytes_per_set - 1) / bytes_per_set));
}

// ---------------------------------------------------------------------------------------------------
// int8 GEMM.

struct GemmCase {
  int64_t m, n, k;
};

// Sampled int32 results of config `config` against CPU dot products.
Status spot_check(const std::vector<int8_t>& a, const std::vector<int8_t>& b,
                  const cuda::DeviceBuffer& device_a, const cuda::DeviceBuffer& device_b,
                  const GemmCase& c, int config, cudaStream_t stream) {
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer y,
                       cuda::DeviceBuffer::allocate(static_cast<std::size_t>(c.m * c.n) * 4));
  gi::EpilogueSpec raw;
  raw.output = gi::GemmOutput::kS32;
  QRT_RETURN_IF_ERROR(gi::launch_gemm_int8(device_a.as<const int8_t>(), device_b.as<const int8_t>(),
                                           c.m, c.n, c.k, raw, y.data(), config, nullptr, 0,
                                           stream));
  QRT_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));
  const std::vector<int8_t> picks = random_bytes(2 * kSpotChecks, 77);
  for (int s = 0; s < kSpotChecks; ++s) {
    const int64_t row = (static_cast<uint8_t>(picks[2 * s]) * 7919) % c.m;
    const int64_t col = (static_cast<uint8_t>(picks[2 * s + 1]) * 104729 + s) % c.n;
    int32_t expected = 0;
    for (int64_t i = 0; i < c.k; ++i)
      expected += int32_t{a[static_cast<std::size_t>(row * c.k + i)]} *
                  int32_t{b[static_cast<std::size_t>(col * c.k + i)]};
    int32_t got = 0;
    QRT_CUDA_RETURN_IF_ERROR(
        cudaMemcpy(&got, y.as<int32_t>() + row * c.n + col, 4, cudaMemcpyDeviceToHost));
    if (got != expected) {
      return internal_error("wrong result at (" + std::to_string(row) + ", " + std::to_string(col) +
                            "): " + std::to_string(got) + " vs " + std::to_string(expected));
    }
  }
  return Status::ok();
}

Status bench_gemm(const GemmCase& c, int multiprocessors, cudaStream_t stream, std::ostream& out) {
  const auto weight_bytes = static_cast<std::size_t>(c.n * c.k);
  const int sets = rotation_sets(weight_bytes);
  const std::vector<int8_t> a = random_bytes(static_cast<std::size_t>(c.m * c.k), 1);
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer device_a, to_device(a));
  std::vector<int8_t> b0;
  std::vector<cuda::DeviceBuffer> device_b;
  for (int s = 0; s < sets; ++s) {
    std::vector<int8_t> b = random_bytes(weight_bytes, 100 + s);
    QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer d, to_device(b));
    device_b.push_back(std::move(d));
    if (s == 0) b0 = std::move(b);
  }
  std::vector<float> row_scales(static_cast<std::size_t>(c.m), 1e-4f);
  std::vector<float> column_scales(static_cast<std::size_t>(c.n), 2e-3f);
  std::vector<float> bias(static_cast<std::size_t>(c.n), 0.25f);
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer device_rows, to_device(row_scales));
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer device_columns, to_device(column_scales));
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer device_bias, to_device(bias));
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer y,
                       cuda::DeviceBuffer::allocate(static_cast<std::size_t>(c.m * c.n) * 4));

  const double ops =
      2.0 * static_cast<double>(c.m) * static_cast<double>(c.n) * static_cast<double>(c.k);
  const int chosen = gi::select_tile_config(c.m, c.n, c.k, multiprocessors);
  char shape[64];
  std::snprintf(shape, sizeof(shape), "%lldx%lldx%lld", static_cast<long long>(c.m),
                static_cast<long long>(c.n), static_cast<long long>(c.k));

  // Each configuration with the Linear epilogue (dequantize + bias, f16 out), then the chosen one
  // with GELU and with raw s32 output (the anchor's output form).
  struct Variant {
    int config;
    const char* epilogue;
    gi::EpilogueSpec spec;
  };
  gi::EpilogueSpec linear;
  linear.output = gi::GemmOutput::kF16;
  linear.row_scales = device_rows.as<const float>();
  linear.column_scales = device_columns.as<const float>();
  linear.bias = device_bias.as<const float>();
  gi::EpilogueSpec gelu = linear;
  gelu.has_activation = true;
  gelu.activation = cuda::ActivationKind::kGeluErf;
  gi::EpilogueSpec raw;
  raw.output = gi::GemmOutput::kS32;
  std::vector<Variant> variants;
  for (int config = 0; config < gi::kNumTileConfigs; ++config)
    variants.push_back({config, "scales+bias->f16", linear});
  variants.push_back({chosen, "+gelu->f16", gelu});
  variants.push_back({chosen, "none->s32", raw});

  for (const Variant& v : variants) {
    const Status checked = spot_check(a, b0, device_a, device_b[0], c, v.config, stream);
    char line[256];
    if (!checked.is_ok()) {
      std::snprintf(line, sizeof(line), "%-20s %-22s %-18s FAILED: %s\n", shape,
                    gi::kTileConfigs[v.config].name, v.epilogue, checked.to_string().c_str());
      out << line;
      return checked;
    }
    QRT_ASSIGN_OR_RETURN(const double ms, median_ms(stream, kRuns, [&](int i) {
                           return gi::launch_gemm_int8(
                               device_a.as<const int8_t>(),
                               device_b[static_cast<std::size_t>(i % sets)].as<const int8_t>(), c.m,
                               c.n, c.k, v.spec, y.data(), v.config, nullptr, 0, stream);
                         }));
    std::snprintf(line, sizeof(line), "%-20s %-22s %-18s %10.3f %10.1f%s\n", shape,
                  gi::kTileConfigs[v.config].name, v.epilogue, ms, ops / ms / 1e9,
                  v.config == chosen ? "  (auto)" : "");
    out << line;
  }

  // The whole dynamic W8A8 Linear from f16 activations: per-row quantization of x, then the GEMM
  // with the Linear epilogue (compare with cuBLAS FP16 at the same shape in gpu_anchor.json).
  std::vector<__half> x(static_cast<std::size_t>(c.m * c.k));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = __float2half(a[i] / 32.0f);
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer device_x, to_device(x));
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer x_codes,
                       cuda::DeviceBuffer::allocate(static_cast<std::size_t>(c.m * c.k)));
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer x_scales,
                       cuda::DeviceBuffer::allocate(static_cast<std::size_t>(c.m) * 4));
  gi::EpilogueSpec dynamic = linear;
  dynamic.row_scales = x_scales.as<const float>();
  QRT_ASSIGN_OR_RETURN(
      const double ms, median_ms(stream, kRuns, [&](int i) -> Status {
        QRT_RETURN_IF_ERROR(cuda::launch_quantize_rows(device_x.as<const __half>(), c.m, c.k,
                                                       x_codes.as<int8_t>(), x_scales.as<float>(),
                                                       nullptr, stream));
        return gi::launch_gemm_int8(x_codes.as<const int8_t>(),
                                    device_b[static_cast<std::size_t>(i % sets)].as<const int8_t>(),
                                    c.m, c.n, c.k, dynamic, y.data(), chosen, nullptr, 0, stream);
      }));
  char line[256];
  std::snprintf(line, sizeof(line), "%-20s %-22s %-18s %10.3f %10.1f  (auto)\n", shape,
                gi::kTileConfigs[chosen].name, "quantize_rows+gemm", ms, ops / ms / 1e9);
  out << line;
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------------
// Weight-only GEMV / small-M GEMM.

struct WeightOnlyCase {
  const char* format;  // "nf4" or "w8a16"
  int64_t m, n, k;
  double anchor_fp16_us;  // cuBLAS FP16 on an H100 (performance.md); 0 = not listed there
};

Status bench_weight_only(const WeightOnlyCase& c, cudaStream_t stream, std::ostream& out) {
  const bool nf4 = std::string(c.format) == "nf4";
  constexpr int64_t kBlock = 64;
  const auto elements = static_cast<std::size_t>(c.n * c.k);
  const std::size_t blocks = elements / kBlock;
  const std::size_t groups = (blocks + 255) / 256;
  const std::size_t weight_bytes =
      nf4 ? elements / 2 + blocks + groups * 4 : elements + static_cast<std::size_t>(c.n) * 4;
  const int sets = rotation_sets(weight_bytes);

  std::vector<__half> x(static_cast<std::size_t>(c.m * c.k));
  const std::vector<int8_t> noise = random_bytes(x.size(), 5);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = __float2half(noise[i] / 64.0f);
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer device_x, to_device(x));
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer y,
                       cuda::DeviceBuffer::allocate(static_cast<std::size_t>(c.m * c.n) * 2));
  // Per set: packed codes / int8 codes, and absmax codes + group scales / channel scales.
  std::vector<cuda::DeviceBuffer> codes, small_codes, scales;
  for (int s = 0; s < sets; ++s) {
    QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer d,
                         to_device(random_bytes(nf4 ? elements / 2 : elements, 200 + s)));
    codes.push_back(std::move(d));
    if (nf4) {
      QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer a, to_device(random_bytes(blocks, 300 + s)));
      small_codes.push_back(std::move(a));
      QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer g, to_device(std::vector<float>(groups, 1e-3f)));
      scales.push_back(std::move(g));
    } else {
      QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer g,
                           to_device(std::vector<float>(static_cast<std::size_t>(c.n), 1e-3f)));
      scales.push_back(std::move(g));
    }
  }
  auto launch = [&](int i) {
    const auto s = static_cast<std::size_t>(i % sets);
    if (nf4) {
      wo::Nf4Weights w;
      w.packed = codes[s].as<const uint8_t>();
      w.block_size = kBlock;
      w.absmax_codes = small_codes[s].as<const int8_t>();
      w.group_scales = scales[s].as<const float>();
      w.absmax_offset = 0.5f;  // keeps every decoded absmax > 0
      return wo::launch_nf4_gemm(device_x.as<const __half>(), c.m, c.n, c.k, w, nullptr,
                                 wo::WeightOnlyOutput::kF16, y.data(), stream);
    }
    return wo::launch_w8a16_gemm(
        device_x.as<const __half>(), c.m, c.n, c.k,
        wo::Int8Weights{codes[s].as<const int8_t>(), scales[s].as<const float>()}, nullptr,
        wo::WeightOnlyOutput::kF16, y.data(), stream);
  };
  QRT_ASSIGN_OR_RETURN(const double ms, median_ms(stream, kRuns, launch));

  // Spot check on weight set 0 against a CPU dot product (a fast but wrong kernel must not
  // produce a number). Tolerance: f16 output (2^-11 relative) plus f32 accumulation (1e-4 of the
  // magnitude sum, see tests/cuda/test_weight_only.cpp).
  QRT_RETURN_IF_ERROR(launch(0));
  QRT_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));
  std::vector<__half> y_host(static_cast<std::size_t>(c.m * c.n));
  QRT_CUDA_RETURN_IF_ERROR(
      cudaMemcpy(y_host.data(), y.data(), y_host.size() * 2, cudaMemcpyDeviceToHost));
  const std::vector<int8_t> codes0 = random_bytes(nf4 ? elements / 2 : elements, 200);
  const std::vector<int8_t> absmax0 = nf4 ? random_bytes(blocks, 300) : std::vector<int8_t>{};
  for (int check = 0; check < kSpotChecks; ++check) {
    const int64_t row = check % c.m;
    const int64_t col = (static_cast<int64_t>(check) * 104729) % c.n;
    double expected = 0.0;
    double magnitude = 0.0;
    for (int64_t i = 0; i < c.k; ++i) {
      const auto e = static_cast<std::size_t>(col * c.k + i);
      double w = 0.0;
      if (nf4) {
        const auto byte = static_cast<uint8_t>(codes0[e / 2]);
        const int nibble = e % 2 == 0 ? byte >> 4 : byte & 0xf;
        const float absmax = static_cast<float>(absmax0[e / kBlock]) * 1e-3f + 0.5f;
        w = static_cast<double>(ir::kNF4Codebook[nibble]) * absmax;
      } else {
        w = static_cast<double>(codes0[e]) * 1e-3;
      }
      const double term =
          static_cast<double>(__half2float(x[static_cast<std::size_t>(row * c.k + i)])) * w;
      expected += term;
      magnitude += std::fabs(term);
    }
    const double got = __half2float(y_host[static_cast<std::size_t>(row * c.n + col)]);
    if (!(std::fabs(got - expected) <= std::fabs(expected) / 1024 + 1e-4 * magnitude + 1e-6)) {
      return internal_error(std::string(c.format) + " wrong result at (" + std::to_string(row) +
                            ", " + std::to_string(col) + "): " + std::to_string(got) + " vs " +
                            std::to_string(expected));
    }
  }
  const double us = ms * 1e3;
  const double bytes = static_cast<double>(weight_bytes) + static_cast<double>(x.size()) * 2 +
                       static_cast<double>(c.m * c.n) * 2;
  char line[256];
  char anchor[64] = "-";
  if (c.anchor_fp16_us > 0) {
    std::snprintf(anchor, sizeof(anchor), "%.1f (%.2fx)", c.anchor_fp16_us, c.anchor_fp16_us / us);
  }
  std::snprintf(line, sizeof(line), "%-6s %-5lld %-11s %10.2f %10.1f   %s\n", c.format,
                static_cast<long long>(c.m),
                (std::to_string(c.n) + "x" + std::to_string(c.k)).c_str(), us,
                bytes / (ms * 1e-3) / 1e9, anchor);
  out << line;
  return Status::ok();
}

Status bench_quantize_rows(int64_t rows, int64_t cols, cudaStream_t stream, std::ostream& out) {
  std::vector<__half> x(static_cast<std::size_t>(rows * cols));
  const std::vector<int8_t> noise = random_bytes(x.size(), 9);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = __float2half(noise[i] / 16.0f);
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer device_x, to_device(x));
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer q,
                       cuda::DeviceBuffer::allocate(static_cast<std::size_t>(rows * cols)));
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer scales,
                       cuda::DeviceBuffer::allocate(static_cast<std::size_t>(rows) * 4));
  QRT_ASSIGN_OR_RETURN(const double ms, median_ms(stream, kRuns, [&](int) {
                         return cuda::launch_quantize_rows(device_x.as<const __half>(), rows, cols,
                                                           q.as<int8_t>(), scales.as<float>(),
                                                           nullptr, stream);
                       }));
  const double bytes = static_cast<double>(rows * cols) * 3 + static_cast<double>(rows) * 4;
  char line[160];
  std::snprintf(line, sizeof(line), "quantize_rows f16 %lldx%lld: %.2f us, %.0f GB/s\n",
                static_cast<long long>(rows), static_cast<long long>(cols), ms * 1e3,
                bytes / (ms * 1e-3) / 1e9);
  out << line;
  return Status::ok();
}

}  // namespace

int run_gemm_benchmarks(std::ostream& out) {
  const Result<cuda::DeviceInfo> info = cuda::query_current_device();
  if (!info.is_ok()) {
    out << "qrt_bench_cuda gemm: " << info.status().to_string() << "\n";
    return 2;
  }
  out << "device: " << info->summary() << "\n";
  cudaStream_t stream = nullptr;
  if (cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) != cudaSuccess) {
    out << "cudaStreamCreate failed\n";
    return 1;
  }
  int failures = 0;

  out << "\n== int8 GEMM y = epilogue(A·Bᵀ), A [M,K] int8, B [N,K] int8 (TN); median of "
      << kRuns.timed << " runs, weights rotated\n";
  out << "MxNxK                config                 epilogue                 ms      TOP/s\n";
  const GemmCase gemm_cases[] = {
      {1024, 4096, 4096}, {2048, 4096, 4096}, {4096, 4096, 4096}, {8192, 4096, 4096},
      {1024, 8192, 8192}, {2048, 8192, 8192}, {4096, 8192, 8192}, {8192, 8192, 8192},
  };
  for (const GemmCase& c : gemm_cases) {
    const Status s = bench_gemm(c, info->multiprocessor_count, stream, out);
    if (!s.is_ok()) {
      out << "  FAILED: " << s.to_string() << "\n";
      ++failures;
    }
  }

  out << "\n== weight-only GEMV / small-M GEMM, f16 activations and output; anchor = cuBLAS "
         "FP16 (performance.md, us)\n";
  out << "format M     NxK                 us       GB/s   anchor us (speed-up)\n";
  const WeightOnlyCase weight_cases[] = {
      {"nf4", 1, 8192, 8192, 73.0},   {"nf4", 16, 8192, 8192, 74.0},
      {"w8a16", 1, 8192, 8192, 73.0}, {"w8a16", 16, 8192, 8192, 74.0},
      {"nf4", 1, 4096, 4096, 0.0},    {"w8a16", 1, 4096, 4096, 0.0},
      {"nf4", 1, 256, 256, 0.0},      {"w8a16", 1, 512, 512, 0.0},
  };
  for (const WeightOnlyCase& c : weight_cases) {
    const Status s = bench_weight_only(c, stream, out);
    if (!s.is_ok()) {
      out << c.format << " M=" << c.m << " FAILED: " << s.to_string() << "\n";
      ++failures;
    }
  }

  out << "\n== per-row activation quantization\n";
  for (const int64_t rows : {int64_t{1}, int64_t{16}, int64_t{8192}}) {
    const Status s = bench_quantize_rows(rows, 8192, stream, out);
    if (!s.is_ok()) {
      out << "quantize_rows FAILED: " << s.to_string() << "\n";
      ++failures;
    }
  }
  cudaStreamDestroy(stream);
  return failures == 0 ? 0 : 1;
}

}  // namespace qrt::bench
