// GPU benchmark cases for the fused int8 GEMM (cuda/gemm_int8/), the weight-only W8A16 / NF4
// GEMV and small-M GEMM (cuda/weight_only/) and the per-row activation quantization
// (cuda/quantize_rows.cuh): CUDA-event timing, warm-up, median of repeated runs, weight sets
// rotated so that they exceed the 50 MB L2, one table row per case.
#pragma once

#include <ostream>

namespace qrt::bench {

// Runs every case on the current device and prints the tables to `out`. Returns 0 when all cases
// ran, 1 when one failed (the failure is printed in its row), 2 without a usable device.
int run_gemm_benchmarks(std::ostream& out);

}  // namespace qrt::bench
