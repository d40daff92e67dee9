// qrt_bench_cpu: Linear y = x·Wᵀ + b with W [4096, 4096] at M = 1, 32, 256 rows, three ways:
//   f32   gemm_xwt_f32 (the f32 Linear kernel's product) on --threads threads;
//   int8  dynamic W8A8 as the runtime's fast int8 Linear runs it: per-row symmetric quantization
//         of x (quantize_row_symmetric_checked), gemm_s8s8_s32_packed, then the epilogue
//         y = s_x[m]·s_w[n]·acc + b (docs/quantization.md §3), weight quantized and packed offline;
//   nf4   nf4_gemm_f32 with block 64 (weights quantized offline).
// Prints the median time of each and the speed-up over f32, plus each path's relative error
// against the f32 result so a fast but wrong kernel is visible.
// With --model FILE.qrt it also times that whole model (tools/bench/model_bench.h) in fp32 and
// dynamic int8 at the --batches given; --json FILE writes every row for tools/bench/bench_cpu.sh,
// which puts them beside the PyTorch anchor's.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "ir/quant_formats.h"
#include "ops/cpu_parallel.h"
#include "ops/gemm_f32.h"
#include "ops/int8_gemm.h"
#include "ops/nf4_gemm_kernels.h"
#include "ops/quantized/quantized_support.h"
#include "tools/bench/model_bench.h"

namespace {

using qrt::ops::Nf4GemmArgs;

constexpr std::size_t kIn = 4096;
constexpr std::size_t kOut = 4096;
constexpr std::size_t kNf4Block = 64;
constexpr int kInt8Max = 127;

struct Options {
  std::size_t threads = 2;
  int repetitions = 9;
  bool linear = true;
  std::string json_path;
  qrt::bench::ModelBenchOptions model;  // model.model_path empty: no model section
};

struct LinearRow {
  std::size_t m = 0;
  double f32_ms = 0.0, int8_ms = 0.0, nf4_ms = 0.0;
  double int8_error = 0.0, nf4_error = 0.0;
};

std::vector<float> normal(std::size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(count);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Symmetric int8 of each row of `t` [rows, cols]: s = max|t| / 127 (1 for an all-zero row).
void quantize_rows(const float* t, std::size_t rows, std::size_t cols, int8_t* q, float* scales) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = t + r * cols;
    float amax = 0.0f;
    for (std::size_t c = 0; c < cols; ++c) amax = std::max(amax, std::fabs(row[c]));
    const float s = amax > 0.0f ? amax / kInt8Max : 1.0f;
    const float inv = 1.0f / s;
    for (std::size_t c = 0; c < cols; ++c) {
      const float v = std::nearbyint(row[c] * inv);
      q[r * cols + c] = static_cast<int8_t>(std::clamp(v, -127.0f, 127.0f));
    }
    scales[r] = s;
  }
}

struct Nf4Weight {
  std::vector<uint8_t> packed;
  std::vector<float> absmax;
};

uint8_t nearest_code(float v) {
  uint8_t best = 0;
  for (uint8_t c = 1; c < 16; ++c) {
    if (std::fabs(qrt::ir::kNF4Codebook[c] - v) < std::fabs(qrt::ir::kNF4Codebook[best] - v)) {
      best = c;
    }
  }
  return best;
}

Nf4Weight quantize_nf4(const std::vector<float>& w, std::size_t rows, std::size_t cols) {
  Nf4Weight q{std::vector<uint8_t>(rows * cols / 2), std::vector<float>(rows * cols / kNf4Block)};
  for (std::size_t blk = 0; blk < q.absmax.size(); ++blk) {
    const float* src = w.data() + blk * kNf4Block;
    float amax = 0.0f;
    for (std::size_t i = 0; i < kNf4Block; ++i) amax = std::max(amax, std::fabs(src[i]));
    q.absmax[blk] = amax > 0.0f ? amax : 1.0f;
    for (std::size_t i = 0; i < kNf4Block; i += 2) {
      const uint8_t hi = nearest_code(src[i] / q.absmax[blk]);
      const uint8_t lo = nearest_code(src[i + 1] / q.absmax[blk]);
      q.packed[(blk * kNf4Block + i) / 2] =
          static_cast<uint8_t>((hi << qrt::ir::kNF4HighNibbleShift) | lo);
    }
  }
  return q;
}

template <typename Fn>
double median_ms(const Options& o, const Fn& fn) {
  fn();  // warm-up: page faults, caches, thread start
  std::vector<double> ms;
  for (int r = 0; r < o.repetitions; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    const auto t1 = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

double relative_error(const std::vector<float>& y, const std::vector<float>& ref) {
  double num = 0.0, den = 0.0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    num += (double{y[i]} - ref[i]) * (double{y[i]} - ref[i]);
    den += double{ref[i]} * ref[i];
  }
  return den > 0.0 ? std::sqrt(num / den) : 0.0;
}

constexpr const char* kUsage =
    "usage: qrt_bench_cpu [--threads N] [--repetitions R] [--no-linear]\n"
    "                     [--model FILE.qrt [--batches 1,32] [--model-repetitions 20]]\n"
    "                     [--json FILE]\n";

bool parse_positive(const std::string& flag, const char* text, long& value) {
  char* end = nullptr;
  value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < 1) {
    std::fprintf(stderr, "qrt_bench_cpu: %s must be a positive integer, got '%s'\n", flag.c_str(),
                 text);
    return false;
  }
  return true;
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    long v = 0;
    if (arg == "--threads" && has_value) {
      if (!parse_positive(arg, argv[++i], v)) return false;
      o.threads = static_cast<std::size_t>(v);
    } else if (arg == "--repetitions" && has_value) {
      if (!parse_positive(arg, argv[++i], v)) return false;
      o.repetitions = static_cast<int>(v);
    } else if (arg == "--model-repetitions" && has_value) {
      if (!parse_positive(arg, argv[++i], v)) return false;
      o.model.repetitions = static_cast<int>(v);
    } else if (arg == "--model" && has_value) {
      o.model.model_path = argv[++i];
    } else if (arg == "--batches" && has_value) {
      auto batches = qrt::bench::parse_batch_list(argv[++i]);
      if (!batches.is_ok()) {
        std::fprintf(stderr, "qrt_bench_cpu: --batches: %s\n", batches.status().message().c_str());
        return false;
      }
      o.model.batches = std::move(batches).value();
    } else if (arg == "--json" && has_value) {
      o.json_path = argv[++i];
    } else if (arg == "--no-linear") {
      o.linear = false;
    } else {
      std::fprintf(stderr, "qrt_bench_cpu: unknown or incomplete argument '%s'\n%s", arg.c_str(),
                   kUsage);
      return false;
    }
  }
  return true;
}

std::vector<LinearRow> bench_linear(const Options& o) {
  const auto& nf4_impl = qrt::ops::best_nf4_gemm_implementation();
  std::printf(
      "qrt_bench_cpu: Linear %zux%zu, %zu threads, median of %d; int8 kernel %s, nf4 kernel %s\n",
      kOut, kIn, o.threads, o.repetitions, qrt::ops::gemm_s8s8_s32_packed_implementation(),
      nf4_impl.name);

  const auto w = normal(kOut * kIn, 1);
  const auto bias = normal(kOut, 2);
  std::vector<int8_t> w_q(kOut * kIn);
  std::vector<float> w_scale(kOut);
  quantize_rows(w.data(), kOut, kIn, w_q.data(), w_scale.data());
  const qrt::ops::PackedInt8Weights w_packed =
      qrt::ops::pack_int8_weights(w_q.data(), kIn, kOut, kIn);
  const Nf4Weight w_nf4 = quantize_nf4(w, kOut, kIn);

  std::vector<LinearRow> rows;
  std::printf(
      "| M | f32 ms | int8 ms | nf4 ms | f32/int8 | f32/nf4 | int8 rel.err | nf4 rel.err |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const std::size_t m : {std::size_t{1}, std::size_t{32}, std::size_t{256}}) {
    const auto x = normal(m * kIn, 100 + m);
    std::vector<float> y_f32(m * kOut), y_int8(m * kOut), y_nf4(m * kOut);
    std::vector<int8_t> x_q(m * kIn);
    std::vector<float> x_scale(m);
    std::vector<int32_t> acc(m * kOut);

    const double f32_ms = median_ms(o, [&] {
      qrt::ops::gemm_xwt_f32(static_cast<int64_t>(m), kOut, kIn, x.data(), kIn, w.data(),
                             bias.data(), y_f32.data(), kOut, o.threads);
    });
    const double int8_ms = median_ms(o, [&] {
      for (std::size_t i = 0; i < m; ++i) {
        int64_t bad = 0;
        qrt::ops::quantized::quantize_row_symmetric_checked(
            x.data() + i * kIn, kIn, x_q.data() + i * kIn, &x_scale[i], &bad);
      }
      qrt::ops::gemm_s8s8_s32_packed(x_q.data(), kIn, w_packed, acc.data(), kOut, m, o.threads);
      for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < kOut; ++j) {
          y_int8[i * kOut + j] =
              x_scale[i] * w_scale[j] * static_cast<float>(acc[i * kOut + j]) + bias[j];
        }
      }
    });
    const double nf4_ms = median_ms(o, [&] {
      qrt::ops::run_nf4_gemm(nf4_impl,
                             Nf4GemmArgs{x.data(), m, w_nf4.packed.data(), w_nf4.absmax.data(),
                                         kOut, kIn, kNf4Block, bias.data(), y_nf4.data()},
                             o.threads);
    });
    const LinearRow row{
        m, f32_ms, int8_ms, nf4_ms, relative_error(y_int8, y_f32), relative_error(y_nf4, y_f32)};
    std::printf("| %zu | %.3f | %.3f | %.3f | %.2f | %.2f | %.4f | %.4f |\n", m, f32_ms, int8_ms,
                nf4_ms, f32_ms / int8_ms, f32_ms / nf4_ms, row.int8_error, row.nf4_error);
    rows.push_back(row);
  }
  return rows;
}

void print_model_rows(const Options& o, const std::vector<qrt::bench::ModelBenchRow>& rows) {
  std::printf("qrt_bench_cpu: model %s, median of %d after %d warm-up runs\n",
              o.model.model_path.c_str(), o.model.repetitions, o.model.warmups);
  std::printf("| batch | variant | ms | fp32/variant | rel.err vs fp32 | bytes |\n");
  std::printf("|---|---|---|---|---|---|\n");
  double fp32_ms = 0.0;
  for (const auto& r : rows) {
    if (r.variant == "fp32") fp32_ms = r.median_ms;
    std::printf("| %lld | %s | %.3f | %.2f | %.4f | %zu |\n", static_cast<long long>(r.batch),
                r.variant.c_str(), r.median_ms, fp32_ms / r.median_ms, r.relative_error,
                r.model_bytes);
  }
}

// One JSON list of flat records (no strings that need escaping besides the model path).
bool write_json(const std::string& path, const std::vector<LinearRow>& linear,
                const std::vector<qrt::bench::ModelBenchRow>& model) {
  std::ofstream f(path);
  if (!f) return false;
  f << "[";
  const char* sep = "\n";
  char line[512];
  for (const LinearRow& r : linear) {
    std::snprintf(line, sizeof(line),
                  "%s {\"model\": \"linear%zux%zu\", \"batch\": %zu, \"f32_ms\": %.6g, "
                  "\"int8_ms\": %.6g, \"nf4_ms\": %.6g, \"int8_rel_err\": %.6g, "
                  "\"nf4_rel_err\": %.6g}",
                  sep, kOut, kIn, r.m, r.f32_ms, r.int8_ms, r.nf4_ms, r.int8_error, r.nf4_error);
    f << line;
    sep = ",\n";
  }
  for (const auto& r : model) {
    std::snprintf(line, sizeof(line),
                  "%s {\"model\": \"model\", \"variant\": \"%s\", \"batch\": %lld, "
                  "\"ms\": %.6g, \"rel_err\": %.6g, \"bytes\": %zu}",
                  sep, r.variant.c_str(), static_cast<long long>(r.batch), r.median_ms,
                  r.relative_error, r.model_bytes);
    f << line;
    sep = ",\n";
  }
  f << "\n]\n";
  return static_cast<bool>(f);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) return 2;
  std::vector<LinearRow> linear;
  if (o.linear) linear = bench_linear(o);
  std::vector<qrt::bench::ModelBenchRow> model;
  if (!o.model.model_path.empty()) {
    auto rows = qrt::bench::bench_model(o.model);
    if (!rows.is_ok()) {
      std::fprintf(stderr, "qrt_bench_cpu: %s\n", rows.status().to_string().c_str());
      return 1;
    }
    model = std::move(rows).value();
    print_model_rows(o, model);
  }
  if (!o.json_path.empty() && !write_json(o.json_path, linear, model)) {
    std::fprintf(stderr, "qrt_bench_cpu: cannot write %s\n", o.json_path.c_str());
    return 1;
  }
  return 0;
}
