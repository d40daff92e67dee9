// Calibration runner: runs a float graph on user batches with observers attached to every float
// activation and returns the observed ranges as an ir::CalibrationTable, which the static int8 pass
// (ir/passes) turns into scales and zero points. docs/quantization.md §4.
//
// Observed values: every graph input and every node output of dtype f32 that is not a constant.
// Methods:
//   minmax      smallest and largest value over all batches.
//   ema         moving average of the per-batch min and max: the first batch sets them, then
//               r ← momentum·r + (1 − momentum)·r_batch (PyTorch MovingAverageMinMaxObserver).
//   percentile  clip threshold T at `percentile`% of a histogram of |x|.
//   mse         clip threshold T minimising the L2 error of int8 symmetric quantization.
//   entropy     clip threshold T minimising KL(P‖Q) between the clipped 2048-bin |x| histogram and
//               its 128-level quantized version (TensorRT).
// The three histogram methods build a symmetric |x| histogram over [0, max|x|]
// (runtime/observers.h); its range must be known first, so they run the batches twice: a min/max
// pass, then a histogram pass. They report the observed [min, max] clipped to [-T, T], which keeps
// a one-sided tensor (after ReLU, say) one-sided. Thresholds are in runtime/observer_thresholds.h.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "ir/calibration_table.h"
#include "ir/graph.h"
#include "runtime/kernel_registry.h"
#include "runtime/session.h"

namespace qrt::runtime {

enum class CalibrationMethod { kMinMax, kMovingAverage, kPercentile, kMse, kEntropy };

// minmax, ema, percentile, mse, entropy; nothing for any other name.
std::optional<CalibrationMethod> calibration_method_from_name(std::string_view name);
// The name above, also stored in CalibrationTable::method.
const char* calibration_method_name(CalibrationMethod method);

struct CalibrationOptions {
  CalibrationMethod method = CalibrationMethod::kMinMax;
  float ema_momentum = 0.9f;  // ema: weight of the running range, in [0, 1)
  double percentile = 99.99;  // percentile: in (0, 100]
  int histogram_bins = 2048;  // percentile, mse, entropy: >= 1 (entropy: >= 128)
  bool progress = true;       // a progress bar on stderr, shown only when stderr is a terminal
};

// Runs `graph` (f32, on the CPU kernels of `registry`) once per batch (twice for the histogram
// methods) and returns the range of every observed value by name. Each batch is a full set of graph
// inputs, as Session::run takes them. Fails, with a Status naming the batch or value at fault, on:
// bad options, an empty batch list, a batch that does not run, NaN or infinity in any observed
// value. The graph is shared and not modified; the registry must outlive the call only.
Result<ir::CalibrationTable> calibrate(std::shared_ptr<const ir::Graph> graph,
                                       const KernelRegistry& registry,
                                       const std::vector<std::vector<NamedTensor>>& batches,
                                       const CalibrationOptions& options = {});

}  // namespace qrt::runtime
