#include "runtime/calibration.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>

#include "runtime/observer_thresholds.h"
#include "runtime/observers.h"
#include "runtime/progress_bar.h"

namespace qrt::runtime {

std::optional<CalibrationMethod> calibration_method_from_name(std::string_view name) {
  if (name == "minmax") return CalibrationMethod::kMinMax;
  if (name == "ema") return CalibrationMethod::kMovingAverage;
  if (name == "percentile") return CalibrationMethod::kPercentile;
  if (name == "mse") return CalibrationMethod::kMse;
  if (name == "entropy") return CalibrationMethod::kEntropy;
  return std::nullopt;
}

const char* calibration_method_name(CalibrationMethod method) {
  switch (method) {
    case CalibrationMethod::kMinMax:
      return "minmax";
    case CalibrationMethod::kMovingAverage:
      return "ema";
    case CalibrationMethod::kPercentile:
      return "percentile";
    case CalibrationMethod::kMse:
      return "mse";
    case CalibrationMethod::kEntropy:
      return "entropy";
  }
  return "unknown";
}

namespace {

bool uses_histogram(CalibrationMethod method) {
  return method == CalibrationMethod::kPercentile || method == CalibrationMethod::kMse ||
         method == CalibrationMethod::kEntropy;
}

Status check_options(const CalibrationOptions& options) {
  const std::string method = calibration_method_name(options.method);
  if (method == "unknown")
    return invalid_argument("calibration: unknown method " +
                            std::to_string(static_cast<int>(options.method)));
  if (options.method == CalibrationMethod::kMovingAverage &&
      !(options.ema_momentum >= 0.0f && options.ema_momentum < 1.0f))
    return invalid_argument("calibration (ema): ema_momentum " +
                            std::to_string(options.ema_momentum) + " is not in [0, 1)");
  if (options.method == CalibrationMethod::kPercentile &&
      !(options.percentile > 0.0 && options.percentile <= 100.0))
    return invalid_argument("calibration (percentile): percentile " +
                            std::to_string(options.percentile) + " is not in (0, 100]");
  if (uses_histogram(options.method) && options.histogram_bins < 1)
    return invalid_argument("calibration (" + method + "): histogram_bins " +
                            std::to_string(options.histogram_bins) + " must be at least 1");
  if (options.method == CalibrationMethod::kEntropy && options.histogram_bins < kEntropyLevels)
    return invalid_argument("calibration (entropy): histogram_bins " +
                            std::to_string(options.histogram_bins) + " must be at least " +
                            std::to_string(kEntropyLevels) + " (the number of quantized levels)");
  return Status::ok();
}

// What is known about one observed value.
struct ValueState {
  std::string name;
  MinMaxObserver minmax;
  std::optional<MovingAverageObserver> ema;
  std::optional<AbsHistogram> histogram;
};

// Sees the data of one observed value in one batch.
using BatchObserver = std::function<Status(ValueState&, std::span<const float>)>;

// Runs every batch, handing the data of each observed value to `observe`.
Status run_pass(Session& session, const std::vector<std::vector<NamedTensor>>& batches,
                const std::unordered_map<std::string, std::size_t>& index,
                std::vector<ValueState>& states, const BatchObserver& observe,
                ProgressBar& progress) {
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const ValueObserver observer = [&](const ir::Value& value,
                                       const ConstTensorView& view) -> Status {
      const auto it = index.find(value.name);
      if (it == index.end() || view.dtype != ir::DType::kF32) return Status::ok();
      const std::span<const float> data(view.as<float>(), static_cast<std::size_t>(view.numel()));
      return observe(states[it->second], data);
    };
    auto outputs = session.run(batches[b], observer);
    if (!outputs.is_ok())
      return outputs.status().with_context("calibration batch " + std::to_string(b));
    progress.advance();
  }
  return Status::ok();
}

ir::TensorRange clipped_range(const ValueState& state, const CalibrationOptions& options) {
  const ir::TensorRange observed = state.minmax.range();
  if (!state.histogram) return observed;  // nothing non-zero was seen
  double threshold = 0.0;
  switch (options.method) {
    case CalibrationMethod::kPercentile:
      threshold = percentile_threshold(*state.histogram, options.percentile);
      break;
    case CalibrationMethod::kMse:
      threshold = mse_threshold(*state.histogram);
      break;
    default:
      threshold = entropy_threshold(*state.histogram);
      break;
  }
  const float t = static_cast<float>(threshold);
  return {std::max(observed.min, -t), std::min(observed.max, t)};
}

}  // namespace

Result<ir::CalibrationTable> calibrate(std::shared_ptr<const ir::Graph> graph,
                                       const KernelRegistry& registry,
                                       const std::vector<std::vector<NamedTensor>>& batches,
                                       const CalibrationOptions& options) {
  if (!graph) return invalid_argument("calibrate: graph is null");
  QRT_RETURN_IF_ERROR(check_options(options));
  if (batches.empty()) return invalid_argument("calibrate: no calibration batches were given");

  // Observed values: graph inputs and node outputs of dtype f32 that are not constants.
  std::vector<ValueState> states;
  std::unordered_map<std::string, std::size_t> index;
  const auto add = [&](ir::ValueId v) {
    if (v == ir::kNoValue || static_cast<std::size_t>(v) >= graph->values.size()) return;
    const ir::Value& value = graph->values[static_cast<std::size_t>(v)];
    if (value.is_constant() || value.dtype != ir::DType::kF32 || index.count(value.name)) return;
    index.emplace(value.name, states.size());
    ValueState state;
    state.name = value.name;
    if (options.method == CalibrationMethod::kMovingAverage)
      state.ema.emplace(options.ema_momentum);
    states.push_back(std::move(state));
  };
  for (ir::ValueId v : graph->inputs) add(v);
  for (const ir::Node& node : graph->nodes)
    for (ir::ValueId v : node.outputs) add(v);

  auto created = Session::create(graph, registry);
  if (!created.is_ok()) return created.status().with_context("calibration: creating the session");
  std::unique_ptr<Session> session = std::move(created).value();

  const bool histogram = uses_histogram(options.method);
  ProgressBar progress(options.progress, "calibrating",
                       static_cast<int64_t>(batches.size() * (histogram ? 2 : 1)));

  // Pass 1: min/max (and the moving average), rejecting non-finite data.
  const BatchObserver first_pass = [](ValueState& state, std::span<const float> data) -> Status {
    // The Session names the value and run_pass the batch: "calibration batch 2: observing value
    // 'x': NaN at element 4; ...".
    if (const auto bad = first_non_finite(data))
      return invalid_argument(std::string(std::isnan(data[*bad]) ? "NaN" : "infinity") +
                              " at element " + std::to_string(*bad) +
                              "; calibration data must be finite");
    state.minmax.observe(data);
    if (state.ema) state.ema->observe(data);
    return Status::ok();
  };
  QRT_RETURN_IF_ERROR(run_pass(*session, batches, index, states, first_pass, progress));

  ir::CalibrationTable table;
  table.method = calibration_method_name(options.method);
  if (histogram) {
    // Pass 2: |x| histograms over [0, max|x|] of each value.
    for (ValueState& state : states)
      if (!state.minmax.empty() && state.minmax.abs_max() > 0.0f)
        state.histogram.emplace(options.histogram_bins, state.minmax.abs_max());
    const BatchObserver second_pass = [](ValueState& state, std::span<const float> data) {
      if (state.histogram) state.histogram->observe(data);
      return Status::ok();
    };
    QRT_RETURN_IF_ERROR(run_pass(*session, batches, index, states, second_pass, progress));
  }
  for (const ValueState& state : states) {
    if (options.method == CalibrationMethod::kMovingAverage)
      table.ranges[state.name] = state.ema->range();
    else
      table.ranges[state.name] = clipped_range(state, options);
  }
  return table;
}

}  // namespace qrt::runtime
