#include "train/calibration_windows.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "runtime/calibration.h"

namespace qrt::train {

Result<std::vector<runtime::Tensor>> calibration_inputs(const WindowedSeries& series,
                                                        const CalibrationWindows& spec) {
  if (spec.windows < 1 || spec.batch < 1)
    return invalid_argument("calibration needs at least one window and a batch >= 1, got " +
                            std::to_string(spec.windows) + " windows in batches of " +
                            std::to_string(spec.batch));
  const int64_t count = std::min(spec.windows, series.window_count());
  const int64_t stride = std::max<int64_t>(1, series.window_count() / count);
  const std::size_t window_floats = static_cast<std::size_t>(series.lookback()) * kEttChannels;
  std::vector<runtime::Tensor> tensors;
  for (int64_t first = 0; first < count; first += spec.batch) {
    const int64_t rows = std::min(spec.batch, count - first);
    QRT_ASSIGN_OR_RETURN(
        runtime::Tensor t,
        runtime::Tensor::allocate(ir::DType::kF32, {rows, series.lookback(), kEttChannels}));
    float* dst = t.span<float>().data();
    for (int64_t r = 0; r < rows; ++r)
      std::memcpy(dst + r * window_floats, series.input((first + r) * stride),
                  window_floats * sizeof(float));
    tensors.push_back(std::move(t));
  }
  return tensors;
}

Result<ir::CalibrationTable> calibrate_on_windows(const ir::Graph& graph,
                                                  const runtime::KernelRegistry& registry,
                                                  const WindowedSeries& series,
                                                  const CalibrationWindows& spec) {
  if (graph.inputs.size() != 1)
    return invalid_argument("calibration on windows needs a graph with one input [B, L, 7], got " +
                            std::to_string(graph.inputs.size()) + " inputs");
  QRT_ASSIGN_OR_RETURN(std::vector<runtime::Tensor> tensors, calibration_inputs(series, spec));
  const std::string& input = graph.values[static_cast<std::size_t>(graph.inputs[0])].name;
  std::vector<std::vector<runtime::NamedTensor>> batches;
  for (const runtime::Tensor& t : tensors) batches.push_back({{input, t.view()}});
  runtime::CalibrationOptions options;
  options.progress = false;
  auto table =
      runtime::calibrate(std::make_shared<const ir::Graph>(graph), registry, batches, options);
  if (!table.is_ok())
    return table.status().with_context("calibrating on " + std::to_string(tensors.size()) +
                                       " batches of windows");
  return table;
}

}  // namespace qrt::train
