// Whole-model timing of one float .qrt model, run by a Session at several batch sizes, timed the
// way the PyTorch anchors time their modules (warm-up runs, then the median of N wall times of
// Session::run, host input in and host output back):
//   cpu  (qrt_bench_cpu)  fp32 and dynamic int8 (every layer, and the default first/last-in-fp16
//                          policy);
//   cuda (qrt_bench_cuda model)  every precision with every weighted layer converted (fp16, w8a16,
//                          int8-dynamic, int8-static, nf4), plus int8 with the default policy;
//                          nodes without a CUDA kernel run on the CPU, fixed shapes replay a CUDA
//                          graph from the third run on.
// Quantized variants have their activations fused into the Linears before them, as deployed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/status.h"
#include "runtime/kernel_registry.h"

namespace qrt::bench {

struct ModelBenchOptions {
  std::string model_path;
  runtime::Device device = runtime::Device::kCpu;
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
  std::string placement;        // "14/14 nodes on cuda, 2 copies": what ran on the device
  bool replayed = false;        // the timed runs replayed a recorded CUDA graph
};

// Times every variant at every batch; the input is N(0, 1) from a fixed seed, shaped like the
// model's single input with its leading (batch) dimension set to the batch. The relative error is
// against fp32 on the CPU. int8-static calibrates (min/max) on 8 such inputs of batch 1.
Result<std::vector<ModelBenchRow>> bench_model(const ModelBenchOptions& options);

// "1,32" -> {1, 32}; fails, quoting the entry, unless every entry is an integer >= 1.
Result<std::vector<int64_t>> parse_batch_list(const std::string& text);

}  // namespace qrt::bench
