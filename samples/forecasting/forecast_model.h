// A forecasting model loaded from a .qrt file and bound to one runtime Session on the CPU or the
// GPU: checks that the model's shapes fit the protocol (input [batch, L, 7] -> output
// [batch, H, 7]), runs windows in batches and measures single-window latency.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/session.h"
#include "samples/forecasting/ett_data.h"
#include "samples/forecasting/metrics.h"

namespace qrt::samples {

class ForecastModel {
 public:
  // Loads `path`, checks it has one input and one output whose shapes match `lookback` and
  // `horizon` (7 channels, dynamic or any batch dimension), and creates a session on `device`
  // (kCuda: nodes without a CUDA kernel run on the CPU; fails with "no CUDA device: ..." when no
  // GPU is usable).
  static Result<ForecastModel> load(const std::string& path, int64_t lookback, int64_t horizon,
                                    runtime::Device device = runtime::Device::kCpu);
  // The same checks and session for a graph built in memory (a quantized variant); `label` names
  // it in errors.
  static Result<ForecastModel> from_graph(std::shared_ptr<const ir::Graph> graph,
                                          const std::string& label, int64_t lookback,
                                          int64_t horizon,
                                          runtime::Device device = runtime::Device::kCpu);

  // MSE/MAE over every window of `series` (or its first `max_windows` when > 0), `batch` windows
  // per run (the last run may be smaller).
  Result<ErrorMetrics> evaluate(const WindowedSeries& series, int64_t batch,
                                int64_t max_windows = 0);
  // The [H, 7] forecast of window `index`.
  Result<std::vector<float>> predict(const WindowedSeries& series, int64_t index);
  // Median wall time (ms) of `count` runs of `batch` consecutive windows (run i starts at window
  // i·batch, wrapping) after a short warm-up; includes copying the windows into the input tensor,
  // as a caller would.
  Result<double> median_latency_ms(const WindowedSeries& series, int64_t count, int64_t batch = 1);

  // Size of the file the model was loaded from (0 for a graph built in memory).
  uint64_t file_bytes() const { return file_bytes_; }
  // Size of the graph serialized as a .qrt file (ir::serialize_model): what it costs to ship.
  uint64_t serialized_bytes() const { return serialized_bytes_; }
  const ir::Graph& graph() const { return *graph_; }
  // Activation memory the session planned for the shapes of its last run: the host arena plus,
  // on a GPU, the device arena (weights are used in place and not counted).
  std::size_t activation_bytes() const {
    return session_->arena_bytes() + session_->device_arena_bytes();
  }
  // Where the session runs each node: "all 14 nodes on cpu", or for a GPU session "12 nodes on
  // cuda, 2 on cpu (lstm, add_1), 4 copies".
  std::string placement() const;

 private:
  // Runs windows [first, first + count) and returns the [count, H, 7] forecast tensor.
  Result<runtime::Tensor> run_windows(const WindowedSeries& series, int64_t first, int64_t count);

  std::shared_ptr<const ir::Graph> graph_;
  std::unique_ptr<runtime::Session> session_;
  std::string input_name_;
  int64_t lookback_ = 0;
  int64_t horizon_ = 0;
  uint64_t file_bytes_ = 0;
  uint64_t serialized_bytes_ = 0;
};

}  // namespace qrt::samples
