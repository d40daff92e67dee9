// The precisions `forecast --precision` evaluates, each built in memory from the loaded fp32 model
// with the quantization passes (ir/passes/passes.h) and the default precision policy (first and
// last weighted layers kept in fp16).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"
#include "ir/precision.h"
#include "ir/status.h"
#include "samples/forecasting/ett_data.h"

namespace qrt::samples {

// Command-line names, in report order: fp32, fp16, w8a16, dynamic, static, nf4.
const std::vector<std::string_view>& forecast_precision_names();

// "all" -> every precision; one name -> fp32 (the reference every row is compared with) and that
// one. Unknown names are an error listing the accepted ones.
Result<std::vector<ir::Precision>> parse_forecast_precisions(std::string_view text);

struct CalibrationSpec {
  int64_t windows = 256;  // training windows, evenly spaced over the train split
  int64_t batch = 32;     // windows per calibration run
};

// The model in `precision`, converted from `fp32` (returned as is for kFP32). kInt8Static first
// calibrates min/max activation ranges on `calibration.windows` windows of `train`. kNF4 (block 64)
// also keeps in fp16 the layers whose weight rows 64 does not divide (the LSTM's K = 7 inputs).
Result<ir::Graph> build_precision_variant(const ir::Graph& fp32, ir::Precision precision,
                                          const WindowedSeries& train,
                                          const CalibrationSpec& calibration = {});

// "lstm int8-dynamic, head fp16, ..." for the weighted layers of `graph`.
std::string weighted_layer_summary(const ir::Graph& graph);

}  // namespace qrt::samples
