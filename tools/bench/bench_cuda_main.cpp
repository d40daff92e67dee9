// qrt_bench_cuda: the GPU benchmark tables. Usage: qrt_bench_cuda [gemm|lstm|all] (default all).
//   gemm  int8 GEMM with epilogue, NF4 / W8A16 GEMV and small-M GEMM, row quantization
//         (bench_cuda_gemm.h)
//   lstm  persistent LSTM and fused LayerNorm (bench_cuda_lstm.h)
// Exit code: 0 all cases ran, 1 a case failed, 2 no usable device or a bad argument.
#include <algorithm>
#include <iostream>
#include <string>

#include "tools/bench/bench_cuda_gemm.h"
#include "tools/bench/bench_cuda_lstm.h"

int main(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "all";
  if (which != "gemm" && which != "lstm" && which != "all") {
    std::cerr << "usage: qrt_bench_cuda [gemm|lstm|all]\n";
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
