#include "samples/forecasting/forecast_model.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <system_error>

#include "ir/serialize.h"
#include "tools/backend.h"

namespace qrt::samples {
namespace {

// Batch-1 runs before timing starts: the first run plans memory and touches cold weights.
constexpr int kLatencyWarmupRuns = 3;

// Accepts a dynamic dim (the batch, or any dim the exporter left free) or the expected size.
bool dim_fits(int64_t dim, int64_t expected) {
  return dim == ir::kDynamicDim || dim == expected;
}

Status check_model_shapes(const ir::Graph& graph, const std::string& path, int64_t lookback,
                          int64_t horizon) {
  if (graph.inputs.size() != 1 || graph.outputs.size() != 1) {
    return invalid_argument("model '" + path + "' has " + std::to_string(graph.inputs.size()) +
                            " inputs and " + std::to_string(graph.outputs.size()) +
                            " outputs; a forecaster has one of each");
  }
  const ir::Value& input = graph.values[static_cast<std::size_t>(graph.inputs[0])];
  const std::string expected_in = "[batch, " + std::to_string(lookback) + ", 7]";
  if (input.shape.size() != 3 || !dim_fits(input.shape[1], lookback) ||
      !dim_fits(input.shape[2], kEttChannels)) {
    return invalid_argument("model '" + path + "' input '" + input.name + "' has shape " +
                            ir::shape_to_string(input.shape) + ", but --lookback " +
                            std::to_string(lookback) + " needs " + expected_in);
  }
  auto types = ir::infer_shapes(graph, {ir::Shape{1, lookback, kEttChannels}});
  if (!types.is_ok()) {
    return types.status().with_context("model '" + path + "' with input " + expected_in);
  }
  const ir::ValueId out_id = graph.outputs[0];
  const ir::TensorType& out = (*types)[static_cast<std::size_t>(out_id)];
  const ir::Shape expected_out{1, horizon, kEttChannels};
  if (out.dtype != ir::DType::kF32 || out.shape != expected_out) {
    return invalid_argument(
        "model '" + path + "' output '" + graph.values[static_cast<std::size_t>(out_id)].name +
        "' has shape " + ir::shape_to_string(out.shape) + " for one window, but --horizon " +
        std::to_string(horizon) + " needs " + ir::shape_to_string(expected_out) + " (f32)");
  }
  return Status::ok();
}

}  // namespace

Result<ForecastModel> ForecastModel::load(const std::string& path, int64_t lookback,
                                          int64_t horizon, runtime::Device device) {
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  if (ec) return io_error("cannot open model file '" + path + "': " + ec.message());

  auto graph = ir::load_model_file(path);
  if (!graph.is_ok()) return graph.status().with_context("loading model '" + path + "'");
  QRT_ASSIGN_OR_RETURN(ForecastModel model,
                       from_graph(std::make_shared<const ir::Graph>(std::move(graph).value()), path,
                                  lookback, horizon, device));
  model.file_bytes_ = bytes;
  return model;
}

Result<ForecastModel> ForecastModel::from_graph(std::shared_ptr<const ir::Graph> graph,
                                                const std::string& label, int64_t lookback,
                                                int64_t horizon, runtime::Device device) {
  if (graph == nullptr) return invalid_argument("model '" + label + "': no graph");
  QRT_RETURN_IF_ERROR(check_model_shapes(*graph, label, lookback, horizon));
  auto serialized = ir::serialize_model(*graph);
  if (!serialized.is_ok()) return serialized.status().with_context("serializing '" + label + "'");

  ForecastModel model;
  model.graph_ = std::move(graph);
  runtime::KernelRegistry registry;
  QRT_RETURN_IF_ERROR(tools::register_backends(device, registry));
  runtime::SessionOptions options;
  options.device = device;
  auto session = runtime::Session::create(model.graph_, registry, options);
  if (!session.is_ok()) return session.status().with_context("preparing model '" + label + "'");
  model.session_ = std::move(session).value();
  model.input_name_ = model.graph_->values[static_cast<std::size_t>(model.graph_->inputs[0])].name;
  model.lookback_ = lookback;
  model.horizon_ = horizon;
  model.serialized_bytes_ = serialized->size();
  return model;
}

Result<runtime::Tensor> ForecastModel::run_windows(const WindowedSeries& series, int64_t first,
                                                   int64_t count) {
  if (series.lookback() != lookback_ || series.horizon() != horizon_) {
    return invalid_argument("windows of lookback " + std::to_string(series.lookback()) +
                            " / horizon " + std::to_string(series.horizon()) +
                            " given to a model for " + std::to_string(lookback_) + " / " +
                            std::to_string(horizon_));
  }
  if (first < 0 || count < 1 || first + count > series.window_count()) {
    return invalid_argument("windows [" + std::to_string(first) + ", " +
                            std::to_string(first + count) + ") are outside the " +
                            std::to_string(series.window_count()) + " windows");
  }
  QRT_ASSIGN_OR_RETURN(
      runtime::Tensor input,
      runtime::Tensor::allocate(ir::DType::kF32, {count, lookback_, kEttChannels}));
  const std::size_t window_floats = static_cast<std::size_t>(lookback_) * kEttChannels;
  float* dst = input.span<float>().data();
  for (int64_t w = 0; w < count; ++w) {
    std::memcpy(dst + w * window_floats, series.input(first + w), window_floats * sizeof(float));
  }
  QRT_ASSIGN_OR_RETURN(auto outputs, session_->run({{input_name_, input.view()}}));
  if (outputs.size() != 1 || outputs[0].dtype() != ir::DType::kF32 ||
      outputs[0].shape() != ir::Shape{count, horizon_, kEttChannels}) {
    return internal_error(
        "the model returned an output of shape " +
        (outputs.empty() ? std::string("(none)") : ir::shape_to_string(outputs[0].shape())) +
        " for " + std::to_string(count) + " windows");
  }
  return std::move(outputs[0]);
}

Result<ErrorMetrics> ForecastModel::evaluate(const WindowedSeries& series, int64_t batch,
                                             int64_t max_windows) {
  if (batch < 1) return invalid_argument("batch must be >= 1, got " + std::to_string(batch));
  if (max_windows < 0)
    return invalid_argument("max_windows must be >= 0, got " + std::to_string(max_windows));
  const int64_t windows =
      max_windows > 0 ? std::min(max_windows, series.window_count()) : series.window_count();
  ErrorAccumulator errors;
  const int64_t target_floats = horizon_ * kEttChannels;
  for (int64_t first = 0; first < windows; first += batch) {
    const int64_t count = std::min(batch, windows - first);
    QRT_ASSIGN_OR_RETURN(runtime::Tensor forecast, run_windows(series, first, count));
    const float* predicted = forecast.span<const float>().data();
    for (int64_t w = 0; w < count; ++w) {
      errors.add(predicted + w * target_floats, series.target(first + w), target_floats);
      errors.count_window();
    }
  }
  return errors.result();
}

std::string ForecastModel::placement() const {
  // Session::kernel_names: "node: cpu.reference.linear", "node: cuda.linear.fp16 (...)" or
  // "value: copy cpu -> cuda"; the kernel name's first component is its device.
  std::map<std::string, std::vector<std::string>> nodes_by_device;
  int copies = 0;
  for (const std::string& step : session_->kernel_names()) {
    const std::size_t colon = step.find(": ");
    const std::string what = step.substr(colon + 2);
    if (what.rfind("copy ", 0) == 0) {
      ++copies;
      continue;
    }
    nodes_by_device[what.substr(0, what.find('.'))].push_back(step.substr(0, colon));
  }
  if (nodes_by_device.size() == 1) {
    const auto& [device, nodes] = *nodes_by_device.begin();
    return "all " + std::to_string(nodes.size()) + " nodes on " + device;
  }
  // Mixed: the accelerator's count first, then the nodes left on the CPU by name.
  std::string text;
  for (const auto& [device, nodes] : nodes_by_device) {
    if (device == "cpu") continue;
    text += std::to_string(nodes.size()) + " nodes on " + device + ", ";
  }
  const std::vector<std::string>& on_cpu = nodes_by_device["cpu"];
  text += std::to_string(on_cpu.size()) + " on cpu (";
  for (std::size_t i = 0; i < on_cpu.size(); ++i) text += (i ? ", " : "") + on_cpu[i];
  return text + "), " + std::to_string(copies) + " copies";
}

Result<std::vector<float>> ForecastModel::predict(const WindowedSeries& series, int64_t index) {
  QRT_ASSIGN_OR_RETURN(runtime::Tensor forecast, run_windows(series, index, 1));
  const auto values = forecast.span<const float>();
  return std::vector<float>(values.begin(), values.begin() + horizon_ * kEttChannels);
}

Result<double> ForecastModel::median_latency_ms(const WindowedSeries& series, int64_t count,
                                                int64_t batch) {
  if (batch < 1 || batch > series.window_count())
    return invalid_argument("latency batch " + std::to_string(batch) + " is outside [1, " +
                            std::to_string(series.window_count()) + "]");
  if (count < 1) return invalid_argument("latency needs at least one run");
  // Run i covers windows [start(i), start(i) + batch), wrapping so that every run is full.
  const int64_t starts = series.window_count() - batch + 1;
  const auto start = [&](int64_t i) { return (i * batch) % starts; };
  for (int i = 0; i < kLatencyWarmupRuns; ++i) {
    QRT_RETURN_IF_ERROR(run_windows(series, start(i), batch).status());
  }
  std::vector<double> times_ms;
  times_ms.reserve(static_cast<std::size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const auto begin = std::chrono::steady_clock::now();
    QRT_RETURN_IF_ERROR(run_windows(series, start(i), batch).status());
    const auto end = std::chrono::steady_clock::now();
    times_ms.push_back(std::chrono::duration<double, std::milli>(end - begin).count());
  }
  const auto middle = times_ms.begin() + static_cast<std::ptrdiff_t>(times_ms.size() / 2);
  std::nth_element(times_ms.begin(), middle, times_ms.end());
  return *middle;
}

}  // namespace qrt::samples
