// Calibration on forecasting windows: the activation ranges of a float graph observed on windows
// spread evenly over a split (the whole training period rather than its first weeks), as the
// static int8 model and the initial ranges of quantization-aware training both need.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/calibration_table.h"
#include "ir/graph.h"
#include "ir/status.h"
#include "runtime/kernel_registry.h"
#include "runtime/tensor.h"
#include "train/ett_data.h"

namespace qrt::train {

struct CalibrationWindows {
  int64_t windows = 256;  // evenly spaced over the series (all of them when it has fewer)
  int64_t batch = 32;     // windows per calibration run
};

// The look-back rows of the chosen windows, copied into [batch, L, 7] tensors (the windows overlap
// in the series, so a batch cannot be a view of it). Fails on windows or batch < 1.
Result<std::vector<runtime::Tensor>> calibration_inputs(const WindowedSeries& series,
                                                        const CalibrationWindows& spec);

// min/max ranges of every float activation of `graph` (one input [B, L, 7]) on those windows.
Result<ir::CalibrationTable> calibrate_on_windows(const ir::Graph& graph,
                                                  const runtime::KernelRegistry& registry,
                                                  const WindowedSeries& series,
                                                  const CalibrationWindows& spec = {});

}  // namespace qrt::train
