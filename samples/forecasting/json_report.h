// The machine-readable result of a forecast run:
//   {"dataset": "ETTh1", "device": "cpu", "horizon": 96, "lookback": 96, "test_windows": 2785,
//    "repeat_baseline": {"mse": ..., "mae": ...},
//    "results": [{"precision": "fp32", "mse": ..., "mae": ..., "model_bytes": ...,
//    "activation_bytes": ..., "latency_ms": ..., "latency_b32_ms": ...}, ...]}
// One result per precision; "precision" is the name ir::precision_name gives ("qat-" in front for
// a model fine-tuned with simulated quantization first, which also has "fine_tune_steps"),
// "model_bytes" the serialized size of that graph, "activation_bytes" the activation memory a
// batch-1 session plans (host and device arenas; the weights stay in the model's bytes),
// "latency_ms" batch 1 and "latency_b32_ms"
// batch 32 (medians, on "device": "cpu" or the GPU's summary).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qrt::samples {

struct PrecisionResult {
  std::string precision;  // "fp32", "int8-dynamic", "qat-nf4", ...
  double mse = 0.0;
  double mae = 0.0;
  uint64_t model_bytes = 0;
  uint64_t activation_bytes = 0;  // batch 1: the session's planned activation arenas
  double latency_ms = 0.0;        // batch 1, median
  double latency_b32_ms = 0.0;    // batch 32, median
  int64_t fine_tune_steps = 0;    // > 0: quantization-aware fine-tuning steps before conversion
};

struct ForecastReport {
  std::string dataset = "ETTh1";
  std::string device = "cpu";  // where the latencies were measured
  int64_t horizon = 0;
  int64_t lookback = 0;
  int64_t test_windows = 0;
  double repeat_mse = 0.0;
  double repeat_mae = 0.0;
  std::vector<PrecisionResult> results;
};

// Pretty-printed JSON; non-finite numbers become null (JSON has no NaN).
std::string report_to_json(const ForecastReport& report);

}  // namespace qrt::samples
