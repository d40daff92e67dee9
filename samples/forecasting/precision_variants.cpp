#include "samples/forecasting/precision_variants.h"

#include <iterator>
#include <utility>

#include "ir/passes/precision_policy.h"
#include "ops/register.h"
#include "train/qat.h"

namespace qrt::samples {
namespace {

using ir::passes::QatMode;

constexpr PrecisionVariant kVariants[] = {
    {"fp32", ir::Precision::kFP32, std::nullopt},
    {"fp16", ir::Precision::kFP16, std::nullopt},
    {"w8a16", ir::Precision::kW8A16, std::nullopt},
    {"dynamic", ir::Precision::kInt8Dynamic, std::nullopt},
    {"static", ir::Precision::kInt8Static, std::nullopt},
    {"nf4", ir::Precision::kNF4, std::nullopt},
    {"qat-int8", ir::Precision::kInt8Static, QatMode::kInt8},
    {"qat-nf4", ir::Precision::kNF4, QatMode::kNF4},
};

runtime::KernelRegistry cpu_registry() {
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  return registry;
}

Result<ir::Graph> quantize_static_on(const ir::Graph& fp32, const WindowedSeries& train,
                                     const train::CalibrationWindows& spec) {
  QRT_ASSIGN_OR_RETURN(ir::CalibrationTable table,
                       train::calibrate_on_windows(fp32, cpu_registry(), train, spec));
  return ir::passes::quantize_static(fp32, table);
}

Result<ir::Graph> quantize_by_pass(const ir::Graph& fp32, ir::Precision precision,
                                   const WindowedSeries& train,
                                   const train::CalibrationWindows& calibration) {
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
          passes::nodes_with_rows_not_divisible(fp32, options.block_size);
      return passes::quantize_nf4(fp32, options);
    }
  }
  return internal_error("unknown precision");
}

}  // namespace

std::string variant_label(const PrecisionVariant& variant) {
  const std::string precision = ir::precision_name(variant.precision);
  return variant.qat ? "qat-" + precision : precision;
}

const std::vector<std::string_view>& forecast_precision_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> v;
    for (const PrecisionVariant& p : kVariants) v.push_back(p.name);
    return v;
  }();
  return names;
}

Result<std::vector<PrecisionVariant>> parse_forecast_variants(std::string_view text) {
  if (text == "all")
    return std::vector<PrecisionVariant>(std::begin(kVariants), std::end(kVariants));
  for (const PrecisionVariant& p : kVariants) {
    if (p.name != text) continue;
    if (p.precision == ir::Precision::kFP32) return std::vector<PrecisionVariant>{p};
    return std::vector<PrecisionVariant>{kVariants[0], p};
  }
  std::string accepted = "all";
  for (const PrecisionVariant& p : kVariants) accepted += std::string(", ") + std::string(p.name);
  return invalid_argument("--precision expects one of " + accepted + "; got '" + std::string(text) +
                          "'");
}

Result<BuiltVariant> build_precision_variant(const ir::Graph& fp32, const PrecisionVariant& variant,
                                             const WindowedSeries& train, const WindowedSeries* val,
                                             const VariantSettings& settings) {
  BuiltVariant built;
  if (!variant.qat) {
    QRT_ASSIGN_OR_RETURN(built.graph,
                         quantize_by_pass(fp32, variant.precision, train, settings.calibration));
  } else {
    train::QatOptions options;
    options.fit = settings.qat_fit;
    options.calibration = settings.calibration;
    QRT_ASSIGN_OR_RETURN(train::QatResult qat,
                         train::quantization_aware_fine_tune(fp32, *variant.qat, train, val,
                                                             cpu_registry(), options));
    built.graph = std::move(qat.deployed);
    built.training = std::move(qat.epochs);
  }
  // Quantized rows are deployment graphs: activations run in their Linears' kernels. The fp32 row
  // stays the model as given, since trainers fine-tune it and training rejects fused activations.
  if (variant.precision != ir::Precision::kFP32) {
    QRT_ASSIGN_OR_RETURN(built.graph, ir::passes::fuse_activations(built.graph));
  }
  return built;
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
