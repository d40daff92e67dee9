#include "samples/forecasting/cli_options.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "samples/forecasting/precision_variants.h"

namespace qrt::samples {
namespace {

Result<int64_t> parse_positive(const std::string& option, const std::string& text,
                               bool allow_zero) {
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() ||
      value < (allow_zero ? 0 : 1)) {
    return invalid_argument(option + " expects " +
                            (allow_zero ? "an integer >= 0" : "a positive integer") + ", got '" +
                            text + "'");
  }
  return value;
}

Result<double> parse_positive_real(const std::string& option, const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value) || value <= 0.0)
    return invalid_argument(option + " expects a positive number, got '" + text + "'");
  return value;
}

}  // namespace

std::string forecast_usage() {
  return "usage: forecast --model M.qrt --data ETTh1.csv [--lookback 96] [--horizon 96]\n"
         "                [--json OUT.json] [--plot OUT.svg] [--device cpu|cuda] [--batch 32]\n"
         "                [--plot-window 0] [--latency-windows 50]\n"
         "                [--precision all|fp32|fp16|w8a16|dynamic|static|nf4|qat-int8|qat-nf4]\n"
         "                [--calibration-windows 256] [--qat-epochs 1] [--qat-max-steps 100]\n"
         "                [--qat-lr 5e-4]\n"
         "Runs the model on every ETTh1 test window (z-scored with train statistics, stride 1)\n"
         "and reports MSE/MAE beside the repeat-last-value baseline, model size and latency.\n"
         "--precision builds each precision from the fp32 model in memory (default all; one\n"
         "name reports fp32 and that precision); static calibrates on evenly spaced training\n"
         "windows. qat-int8 and qat-nf4 fine-tune the model with simulated quantization on the\n"
         "training split (--qat-epochs epochs of at most --qat-max-steps batches of 64 windows,\n"
         "Adam at --qat-lr, the best validation epoch kept), then convert it to static int8 or\n"
         "NF4. The SVG plot shows the fp32 forecast.\n";
}

Result<ForecastOptions> parse_forecast_options(const std::vector<std::string>& args) {
  ForecastOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--help" || flag == "-h") {
      options.help = true;
      return options;
    }
    if (flag.rfind("--", 0) != 0) return invalid_argument("unexpected argument '" + flag + "'");
    if (i + 1 >= args.size()) return invalid_argument(flag + " needs a value");
    const std::string& value = args[++i];
    if (flag == "--model") {
      options.model_path = value;
    } else if (flag == "--data") {
      options.data_path = value;
    } else if (flag == "--json") {
      options.json_path = value;
    } else if (flag == "--plot") {
      options.plot_path = value;
    } else if (flag == "--device") {
      if (value != "cpu" && value != "cuda") {
        return invalid_argument("--device expects cpu or cuda, got '" + value + "'");
      }
      options.want_cuda = value == "cuda";
    } else if (flag == "--lookback") {
      QRT_ASSIGN_OR_RETURN(options.lookback, parse_positive(flag, value, false));
    } else if (flag == "--horizon") {
      QRT_ASSIGN_OR_RETURN(options.horizon, parse_positive(flag, value, false));
    } else if (flag == "--batch") {
      QRT_ASSIGN_OR_RETURN(options.batch, parse_positive(flag, value, false));
    } else if (flag == "--plot-window") {
      QRT_ASSIGN_OR_RETURN(options.plot_window, parse_positive(flag, value, true));
    } else if (flag == "--precision") {
      QRT_RETURN_IF_ERROR(parse_forecast_variants(value).status());
      options.precision = value;
    } else if (flag == "--calibration-windows") {
      QRT_ASSIGN_OR_RETURN(options.calibration_windows, parse_positive(flag, value, false));
    } else if (flag == "--qat-epochs") {
      QRT_ASSIGN_OR_RETURN(options.qat_epochs, parse_positive(flag, value, false));
    } else if (flag == "--qat-max-steps") {
      QRT_ASSIGN_OR_RETURN(options.qat_max_steps, parse_positive(flag, value, false));
    } else if (flag == "--qat-lr") {
      QRT_ASSIGN_OR_RETURN(options.qat_lr, parse_positive_real(flag, value));
    } else if (flag == "--latency-windows") {
      QRT_ASSIGN_OR_RETURN(options.latency_windows, parse_positive(flag, value, false));
    } else {
      return invalid_argument("unknown option '" + flag + "'");
    }
  }
  if (options.model_path.empty()) return invalid_argument("--model is required");
  if (options.data_path.empty()) return invalid_argument("--data is required");
  return options;
}

}  // namespace qrt::samples
