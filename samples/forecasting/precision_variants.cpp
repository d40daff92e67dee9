#include "samples/forecasting/precision_variants.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "ir/passes/passes.h"
#include "ops/register.h"
#include "runtime/calibration.h"
#include "runtime/session.h"

namespace qrt::samples {
namespace {

struct NamedPrecision {
  std::string_view name;
  ir::Precision precision;
};

constexpr NamedPrecision kVariants[] = {
    {"fp32", ir::Precision::kFP32},         {"fp16", ir::Precision::kFP16},
    {"w8a16", ir::Precision::kW8A16},       {"dynamic", ir::Precision::kInt8Dynamic},
    {"static", ir::Precision::kInt8Static}, {"nf4", ir::Precision::kNF4},
};

// Copies `spec.windows` evenly spaced training windows into [batch, L, 7] tensors (the windows
// overlap in the series, so a batch cannot be a view of it).
Result<std::vector<runtime::Tensor>> calibration_tensors(const WindowedSeries& train,
                                                         const CalibrationSpec& spec) {
  if (spec.windows < 1 || spec.batch < 1)
    return invalid_argument("calibration needs at least one window and a batch >= 1");
  const int64_t count = std::min(spec.windows, train.window_count());
  const int64_t stride = std::max<int64_t>(1, train.window_count() / count);
  const std::size_t window_floats = static_cast<std::size_t>(train.lookback()) * kEttChannels;
  std::vector<runtime::Tensor> tensors;
  for (int64_t first = 0; first < count; first += spec.batch) {
    const int64_t rows = std::min(spec.batch, count - first);
    QRT_ASSIGN_OR_RETURN(
        runtime::Tensor t,
        runtime::Tensor::allocate(ir::DType::kF32, {rows, train.lookback(), kEttChannels}));
    float* dst = t.span<float>().data();
    for (int64_t r = 0; r < rows; ++r)
      std::memcpy(dst + r * window_floats, train.input((first + r) * stride),
                  window_floats * sizeof(float));
    tensors.push_back(std::move(t));
  }
  return tensors;
}

Result<ir::Graph> quantize_static_on(const ir::Graph& fp32, const WindowedSeries& train,
                                     const CalibrationSpec& spec) {
  QRT_ASSIGN_OR_RETURN(std::vector<runtime::Tensor> tensors, calibration_tensors(train, spec));
  const std::string input_name = fp32.values[static_cast<std::size_t>(fp32.inputs.at(0))].name;
  std::vector<std::vector<runtime::NamedTensor>> batches;
  for (const runtime::Tensor& t : tensors) batches.push_back({{input_name, t.view()}});
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  runtime::CalibrationOptions options;
  options.progress = false;
  auto table =
      runtime::calibrate(std::make_shared<const ir::Graph>(fp32), registry, batches, options);
  if (!table.is_ok()) return table.status().with_context("calibrating on training windows");
  return ir::passes::quantize_static(fp32, *table);
}

}  // namespace

const std::vector<std::string_view>& forecast_precision_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> v;
    for (const NamedPrecision& p : kVariants) v.push_back(p.name);
    return v;
  }();
  return names;
}

Result<std::vector<ir::Precision>> parse_forecast_precisions(std::string_view text) {
  if (text == "all") {
    std::vector<ir::Precision> all;
    for (const NamedPrecision& p : kVariants) all.push_back(p.precision);
    return all;
  }
  for (const NamedPrecision& p : kVariants) {
    if (p.name != text) continue;
    if (p.precision == ir::Precision::kFP32) return std::vector<ir::Precision>{p.precision};
    return std::vector<ir::Precision>{ir::Precision::kFP32, p.precision};
  }
  std::string accepted = "all";
  for (const NamedPrecision& p : kVariants) accepted += std::string(", ") + std::string(p.name);
  return invalid_argument("--precision expects one of " + accepted + "; got '" + std::string(text) +
                          "'");
}

Result<ir::Graph> build_precision_variant(const ir::Graph& fp32, ir::Precision precision,
                                          const WindowedSeries& train,
                                          const CalibrationSpec& calibration) {
  namespace passes = ir::passes;
  switch (precision) {
    case ir::Precision::kFP32:
      return fp32;
    case ir::Precision::kFP16:
    case ir::Precision::kBF16:
      return passes::downcast(fp32, precision);
    case ir::Precision::kW8A16:
      return passes::quantize_weights(fp32);
    case ir::Precision::kInt8Dynamic:
      return passes::quantize_dynamic(fp32);
    case ir::Precision::kInt8Static:
      return quantize_static_on(fp32, train, calibration);
    case ir::Precision::kNF4: {
      passes::Nf4Options options;
      options.policy.keep_patterns =
          ir::passes::nodes_with_rows_not_divisible(fp32, options.block_size);
      return passes::quantize_nf4(fp32, options);
    }
  }
  return internal_error("unknown precision");
}

std::string weighted_layer_summary(const ir::Graph& graph) {
  std::string s;
  for (const ir::Node& n : graph.nodes) {
    if (!ir::passes::is_weighted(n)) continue;
    if (!s.empty()) s += ", ";
    s += n.name + " " + n.precision.precision;
  }
  return s;
}

}  // namespace qrt::samples
