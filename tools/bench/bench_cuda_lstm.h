// GPU benchmark cases for the persistent LSTM (cuda/lstm/lstm.cuh) and the fused LayerNorm
// (cuda/layer_norm.cuh): CUDA-event timing, warm-up, median of repeated runs, one table row per
// case. `qrt_bench_cuda lstm` (bench_cuda_main.cpp) prints this table.
#pragma once

#include <ostream>

namespace qrt::bench {

// Runs every case on the current device and prints the table to `out`. Returns 0 when all cases
// ran, 1 when one failed (the failure is printed in its row), 2 without a usable device.
int run_lstm_layer_norm_benchmarks(std::ostream& out);

}  // namespace qrt::bench
