// qrt_bench_cuda: the GPU benchmark tables.
//   qrt_bench_cuda [gemm|lstm|all]        (default all)
//     gemm  int8 GEMM with epilogue, NF4 / W8A16 GEMV and small-M GEMM, row quantization
//           (bench_cuda_gemm.h)
//     lstm  persistent LSTM and fused LayerNorm (bench_cuda_lstm.h)
//   qrt_bench_cuda model FILE.qrt [BATCHES]  a whole float model through a CUDA Session in every
//           precision (model_bench.h), BATCHES like "1,32" (default 1)
// Exit code: 0 all cases ran, 1 a case failed, 2 no usable device or a bad argument.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>

#include "tools/bench/bench_cuda_gemm.h"
#include "tools/bench/bench_cuda_lstm.h"
#include "tools/bench/model_bench.h"

namespace {

constexpr const char* kUsage =
    "usage: qrt_bench_cuda [gemm|lstm|all]\n"
    "       qrt_bench_cuda model FILE.qrt [BATCHES, e.g. 1,32]\n";

// One row per variant and batch; "fp16/variant" is the speed-up over the fp16 graph (what a user
// of cuBLAS FP16 would run) in the same process.
int run_model_benchmark(const qrt::bench::ModelBenchOptions& options) {
  auto rows = qrt::bench::bench_model(options);
  if (!rows.is_ok()) {
    std::cerr << "qrt_bench_cuda model: " << rows.status().to_string() << "\n";
    return rows.status().message().rfind("no CUDA device", 0) == 0 ? 2 : 1;
  }
  std::printf(
      "qrt_bench_cuda: model %s through a CUDA Session, median of %d after %d warm-up runs\n",
      options.model_path.c_str(), options.repetitions, options.warmups);
  std::printf(
      "| batch | variant | ms | fp16/variant | rel.err vs fp32 | bytes | graph replay | placement "
      "|\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  double fp16_ms = 0.0;
  for (const auto& r : *rows) {
    if (r.variant == "fp16") fp16_ms = r.median_ms;
    std::printf("| %lld | %s | %.4f | %.2f | %.4f | %zu | %s | %s |\n",
                static_cast<long long>(r.batch), r.variant.c_str(), r.median_ms,
                fp16_ms / r.median_ms, r.relative_error, r.model_bytes, r.replayed ? "yes" : "no",
                r.placement.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "all";
  if (which == "model") {
    qrt::bench::ModelBenchOptions options;
    options.device = qrt::runtime::Device::kCuda;
    options.batches = {1};
    options.warmups = 10;
    options.repetitions = 200;
    if (argc < 3 || argc > 4) {
      std::cerr << kUsage;
      return 2;
    }
    if (argc == 4) {
      auto batches = qrt::bench::parse_batch_list(argv[3]);
      if (!batches.is_ok()) {
        std::cerr << "qrt_bench_cuda model: " << batches.status().message() << "\n" << kUsage;
        return 2;
      }
      options.batches = std::move(batches).value();
    }
    options.model_path = argv[2];
    return run_model_benchmark(options);
  }
  if ((which != "gemm" && which != "lstm" && which != "all") || argc > 2) {
    std::cerr << kUsage;
    return 2;
  }
  int result = 0;
  if (which == "gemm" || which == "all") {
    const int gemm = qrt::bench::run_gemm_benchmarks(std::cout);
    if (gemm == 2) return 2;
    result = std::max(result, gemm);
  }
  if (which == "lstm" || which == "all") {
    std::cout << "\n";
    result = std::max(result, qrt::bench::run_lstm_layer_norm_benchmarks(std::cout));
  }
  return result;
}
