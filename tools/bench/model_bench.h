// Whole-model CPU timing for qrt_bench_cpu: one float .qrt model, run by a Session at several
// batch sizes in fp32 and in dynamic int8 (every layer, and the default first/last-in-fp16 policy),
// timed the way the PyTorch CPU anchor times its modules (3 warm-up runs, then the median of N).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/status.h"

namespace qrt::bench {

struct ModelBenchOptions {
  std::string model_path;
  std::vector<int64_t> batches = {1, 32};
  int warmups = 3;
  int repetitions = 20;
};

struct ModelBenchRow {
  std::string variant;  // "fp32", "int8-dynamic keep none", "int8-dynamic keep first,last"
  int64_t batch = 0;
  double median_ms = 0.0;
  double relative_error = 0.0;  // ||y - y_fp32|| / ||y_fp32|| on the same input
  std::size_t model_bytes = 0;  // serialized .qrt size
};

// Times every variant at every batch; the input is N(0, 1) from a fixed seed, shaped like the
// model's single input with its leading (batch) dimension set to the batch.
Result<std::vector<ModelBenchRow>> bench_model(const ModelBenchOptions& options);

}  // namespace qrt::bench
