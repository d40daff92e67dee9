// The rows `forecast --precision` evaluates, each built in memory from the loaded fp32 model: by a
// quantization pass (ir/passes/passes.h) with the default precision policy (first and last weighted
// layers kept in fp16), or by quantization-aware fine-tuning on the training split then conversion
// (train/qat.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"
#include "ir/passes/passes.h"
#include "ir/precision.h"
#include "ir/status.h"
#include "samples/forecasting/ett_data.h"
#include "train/calibration_windows.h"
#include "train/fine_tune.h"

namespace qrt::samples {

// One row of the table: its command-line name, the precision its quantized layers deploy in, and
// whether it is fine-tuned with FakeQuant before the conversion.
struct PrecisionVariant {
  std::string_view name;                   // "static", "qat-int8", ...
  ir::Precision precision;                 // of the converted layers
  std::optional<ir::passes::QatMode> qat;  // set: quantization-aware fine-tuning first
};

// The row's name in the table and the JSON report: ir::precision_name, "qat-" in front for QAT.
std::string variant_label(const PrecisionVariant& variant);

// Command-line names, in report order: fp32, fp16, w8a16, dynamic, static, nf4, qat-int8, qat-nf4.
const std::vector<std::string_view>& forecast_precision_names();

// "all" -> every variant; one name -> fp32 (the reference every row is compared with) and that
// one. Unknown names are an error listing the accepted ones.
Result<std::vector<PrecisionVariant>> parse_forecast_variants(std::string_view text);

struct VariantSettings {
  train::CalibrationWindows calibration{};  // static, and qat-int8's initial activation ranges
  train::FineTuneOptions qat_fit{};         // qat-*: the fine-tuning budget and optimizer
};

struct BuiltVariant {
  ir::Graph graph;
  std::vector<train::EpochReport> training;  // qat-*: one report per fine-tuning epoch
};

// The model of `variant`, built from `fp32` (returned as is for fp32; every other row with its
// activations fused into their Linears, ir::passes::fuse_activations). static first calibrates
// min/max activation ranges on training windows; nf4 (block 64) also keeps in fp16 the layers
// whose weight rows 64 does not divide (the LSTM's K = 7 inputs); qat-* fine-tune on `train`,
// validated on `val` (may be null), with the same calibration and nf4 policy, then convert.
Result<BuiltVariant> build_precision_variant(const ir::Graph& fp32, const PrecisionVariant& variant,
                                             const WindowedSeries& train, const WindowedSeries* val,
                                             const VariantSettings& settings = {});

// "lstm int8-dynamic, head fp16, ..." for the weighted layers of `graph`.
std::string weighted_layer_summary(const ir::Graph& graph);

}  // namespace qrt::samples
