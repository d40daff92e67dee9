// `qrt quantize MODEL -o OUT --mode fp16|bf16|w8|dynamic|static|nf4 [options]`: converts a float
// model with one of the passes of ir/passes/passes.h, fuses activations into the Linears that
// feed them (ir::passes::fuse_activations, unless --no-fuse: the output is a deployment graph),
// saves it and reports, per weighted layer, the precision the policy chose and why, and the model
// size before and after.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "ir/passes/passes.h"
#include "ir/serialize.h"
#include "runtime/calibration.h"
#include "runtime/sensitivity.h"
#include "tools/backend.h"
#include "tools/cli.h"
#include "tools/npy.h"
#include "tools/option_reader.h"

namespace qrt::tools {

namespace {

constexpr std::string_view kCommand = "quantize";

enum class Mode { kFP16, kBF16, kW8, kDynamic, kStatic, kNF4 };

std::optional<Mode> mode_from_name(const std::string& name) {
  if (name == "fp16") return Mode::kFP16;
  if (name == "bf16") return Mode::kBF16;
  if (name == "w8") return Mode::kW8;
  if (name == "dynamic") return Mode::kDynamic;
  if (name == "static") return Mode::kStatic;
  if (name == "nf4") return Mode::kNF4;
  return std::nullopt;
}

struct QuantizeArgs {
  std::string model;
  std::string output;
  Mode mode = Mode::kDynamic;
  std::string mode_name;
  std::string calib;                   // .npy, static only
  std::string method_name = "minmax";  // static only
  int64_t calib_batch = 32;            // rows of the calibration data per run
  ir::passes::PrecisionPolicy policy;
  bool auto_keep = false;  // --keep auto: keep layers by measured sensitivity
  double target_error = runtime::kDefaultSensitivityTarget;  // auto only
  float threshold = 6.0f;                                    // dynamic only
  int64_t block_size = 64;                                   // nf4 only
  bool fuse = true;  // fuse_activations on the converted graph (--no-fuse: off)
  bool help = false;
};

// --keep: "first,last" (the default), "none", or a comma list of "first", "last", "auto" and name
// patterns ('*' wildcard); first/last are kept only when listed. "auto" lets the sensitivity
// search choose among the layers the other items do not keep.
Status parse_keep(const std::string& text, ir::passes::PrecisionPolicy& policy, bool& auto_keep) {
  policy.keep_first = false;
  policy.keep_last = false;
  policy.keep_patterns.clear();
  auto_keep = false;
  if (text == "none") return Status::ok();
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty())
      return invalid_argument("quantize: --keep has an empty item in '" + text +
                              "' (expected first,last | none | PATTERN,...)");
    if (item == "none")
      return invalid_argument("quantize: --keep 'none' cannot be combined with other items in '" +
                              text + "'");
    if (item == "auto") {
      auto_keep = true;
    } else if (item == "first") {
      policy.keep_first = true;
    } else if (item == "last") {
      policy.keep_last = true;
    } else {
      policy.keep_patterns.push_back(item);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return Status::ok();
}

Result<QuantizeArgs> parse_quantize_args(std::span<const std::string> args) {
  static constexpr std::string_view kValued[] = {"-o",
                                                 "--output",
                                                 "--mode",
                                                 "--calib",
                                                 "--method",
                                                 "--keep",
                                                 "--min-in-features",
                                                 "--threshold",
                                                 "--block-size",
                                                 "--calib-batch",
                                                 "--target-error"};
  static constexpr std::string_view kFlags[] = {"--no-fuse"};
  QRT_ASSIGN_OR_RETURN(auto parsed, parse_arguments(kCommand, args, kValued, kFlags));
  QuantizeArgs r;
  std::vector<std::string> seen;  // options that only apply to one mode
  for (const ParsedArgument& a : parsed) {
    if (a.positional) {
      if (!r.model.empty())
        return invalid_argument("quantize: expected one MODEL, got '" + r.model + "' and '" +
                                a.name + "'");
      r.model = a.name;
    } else if (a.name == "--help") {
      r.help = true;
    } else if (a.name == "--no-fuse") {
      r.fuse = false;
    } else if (a.name == "-o" || a.name == "--output") {
      if (a.value.empty()) return invalid_argument("quantize: -o is empty");
      r.output = a.value;
    } else if (a.name == "--mode") {
      const auto mode = mode_from_name(a.value);
      if (!mode)
        return invalid_argument("quantize: unknown --mode '" + a.value +
                                "' (expected fp16, bf16, w8, dynamic, static or nf4)");
      r.mode = *mode;
      r.mode_name = a.value;
    } else if (a.name == "--calib") {
      r.calib = a.value;
      seen.push_back(a.name);
    } else if (a.name == "--method") {
      if (!runtime::calibration_method_from_name(a.value))
        return invalid_argument("quantize: unknown --method '" + a.value +
                                "' (expected minmax, ema, percentile, mse or entropy)");
      r.method_name = a.value;
      seen.push_back(a.name);
    } else if (a.name == "--calib-batch") {
      QRT_ASSIGN_OR_RETURN(r.calib_batch, parse_integer(kCommand, a.name, a.value, 1));
      seen.push_back(a.name);
    } else if (a.name == "--keep") {
      QRT_RETURN_IF_ERROR(parse_keep(a.value, r.policy, r.auto_keep));
    } else if (a.name == "--min-in-features") {
      QRT_ASSIGN_OR_RETURN(r.policy.min_in_features, parse_integer(kCommand, a.name, a.value, 0));
    } else if (a.name == "--target-error") {
      QRT_ASSIGN_OR_RETURN(const float target, parse_float(kCommand, a.name, a.value, 0.0f));
      r.target_error = target;
      seen.push_back(a.name);
    } else if (a.name == "--threshold") {
      QRT_ASSIGN_OR_RETURN(r.threshold, parse_float(kCommand, a.name, a.value, 0.0f));
      seen.push_back(a.name);
    } else if (a.name == "--block-size") {
      QRT_ASSIGN_OR_RETURN(r.block_size, parse_integer(kCommand, a.name, a.value, 1));
      seen.push_back(a.name);
    }
  }
  if (r.help) return r;
  if (r.model.empty()) return invalid_argument("quantize: missing MODEL (see qrt --help)");
  if (r.output.empty()) return invalid_argument("quantize: missing -o OUT");
  if (r.mode_name.empty())
    return invalid_argument("quantize: missing --mode (fp16, bf16, w8, dynamic, static or nf4)");
  // An option the chosen mode ignores is most likely a mistake: say so rather than drop it.
  for (const std::string& option : seen) {
    const bool calibrates = r.mode == Mode::kStatic || r.auto_keep;
    const bool fits = (option == "--method" && r.mode == Mode::kStatic) ||
                      ((option == "--calib" || option == "--calib-batch") && calibrates) ||
                      (option == "--target-error" && r.auto_keep) ||
                      (option == "--threshold" && r.mode == Mode::kDynamic) ||
                      (option == "--block-size" && r.mode == Mode::kNF4);
    if (!fits)
      return invalid_argument("quantize: " + option + " does not apply to --mode " + r.mode_name +
                              (r.auto_keep ? " with --keep auto" : ""));
  }
  if (r.auto_keep && (r.mode == Mode::kFP16 || r.mode == Mode::kBF16))
    return invalid_argument("quantize: --keep auto chooses which layers to keep in fp16; --mode " +
                            r.mode_name + " quantizes nothing (use w8, dynamic, static or nf4)");
  if (r.auto_keep && r.calib.empty())
    return invalid_argument(
        "quantize: --keep auto needs --calib FILE.npy (the inputs it measures each layer on)");
  if (r.mode == Mode::kStatic && r.calib.empty())
    return invalid_argument("quantize: --mode static needs --calib FILE.npy (calibration inputs)");
  return r;
}

// The calibration inputs of the graph's single input: FILE.npy holds [N, ...], split into runs of
// `batch` rows. The views point into `data`, which must outlive them.
Result<std::vector<std::vector<runtime::NamedTensor>>> calibration_batches(
    const ir::Graph& graph, const std::string& path, const runtime::Tensor& data, int64_t batch) {
  if (graph.inputs.size() != 1)
    return invalid_argument("--calib feeds a graph with one input; this model has " +
                            std::to_string(graph.inputs.size()));
  const ir::Value& input = graph.values[static_cast<std::size_t>(graph.inputs[0])];
  const ir::Shape& shape = data.shape();
  if (shape.empty() || shape[0] == 0 || data.numel() == 0)
    return invalid_argument("calibration data '" + path + "' is empty (shape " +
                            ir::shape_to_string(shape) + ")");
  if (shape.size() != input.shape.size())
    return invalid_argument("calibration data '" + path + "' has shape " +
                            ir::shape_to_string(shape) + "; input '" + input.name +
                            "' needs rank " + std::to_string(input.shape.size()) + " " +
                            ir::shape_to_string(input.shape));
  const auto values = data.span<const float>();
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]))
      return invalid_argument("calibration data '" + path + "' holds a non-finite value (" +
                              std::to_string(values[i]) + ") at flat index " + std::to_string(i));

  const int64_t rows = shape[0];
  const int64_t row_floats = data.numel() / rows;
  std::vector<std::vector<runtime::NamedTensor>> batches;
  for (int64_t first = 0; first < rows; first += batch) {
    ir::Shape part = shape;
    part[0] = std::min(batch, rows - first);
    runtime::ConstTensorView view{ir::DType::kF32, part, values.data() + first * row_floats,
                                  runtime::Device::kCpu};
    batches.push_back({{input.name, view}});
  }
  return batches;
}

// The precision a mode converts layers to.
ir::Precision target_precision(Mode mode) {
  switch (mode) {
    case Mode::kFP16:
      return ir::Precision::kFP16;
    case Mode::kBF16:
      return ir::Precision::kBF16;
    case Mode::kW8:
      return ir::Precision::kW8A16;
    case Mode::kDynamic:
      return ir::Precision::kInt8Dynamic;
    case Mode::kStatic:
      return ir::Precision::kInt8Static;
    case Mode::kNF4:
      return ir::Precision::kNF4;
  }
  return ir::Precision::kFP32;
}

// The mode's pass under `policy`; `table` is the calibration of static mode.
Result<ir::Graph> run_pass(const QuantizeArgs& a, const ir::Graph& graph,
                           const ir::passes::PrecisionPolicy& policy,
                           const ir::CalibrationTable* table) {
  namespace passes = ir::passes;
  switch (a.mode) {
    case Mode::kFP16:
      return passes::downcast(graph, ir::Precision::kFP16, policy);
    case Mode::kBF16:
      return passes::downcast(graph, ir::Precision::kBF16, policy);
    case Mode::kW8:
      return passes::quantize_weights(graph, policy);
    case Mode::kDynamic:
      return passes::quantize_dynamic(graph, {policy, a.threshold});
    case Mode::kNF4: {
      passes::Nf4Options options;
      options.policy = policy;
      options.block_size = a.block_size;
      return passes::quantize_nf4(graph, options);
    }
    case Mode::kStatic: {
      if (table == nullptr) return internal_error("quantize: static mode without calibration");
      passes::StaticOptions static_options;
      static_options.policy = policy;
      return passes::quantize_static(graph, *table, static_options);
    }
  }
  return internal_error("quantize: unhandled mode");
}

std::string short_number(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2g", v);
  return text;
}

// --keep auto (runtime/sensitivity.h): the candidates are the layers the pass converts under the
// other --keep items; the search keeps the most sensitive in fp16 until the target holds, and each
// decision's reason records the measurement.
Result<ir::Graph> convert_auto(const QuantizeArgs& a, const std::shared_ptr<const ir::Graph>& graph,
                               const runtime::KernelRegistry& registry,
                               const std::vector<std::vector<runtime::NamedTensor>>& batches,
                               const ir::CalibrationTable* table) {
  QRT_ASSIGN_OR_RETURN(const ir::Graph all, run_pass(a, *graph, a.policy, table));
  const std::string target = ir::precision_name(target_precision(a.mode));
  std::vector<std::string> candidates;
  for (const ir::Node& n : all.nodes)
    if (ir::passes::is_weighted(n) && n.precision.precision == target) candidates.push_back(n.name);
  if (candidates.empty()) {
    std::printf("--keep auto: no layer is converted to %s; nothing to choose\n", target.c_str());
    return all;
  }
  runtime::QuantizeLayers quantize =
      [&](const std::vector<std::string>& quantized) -> Result<ir::Graph> {
    ir::passes::PrecisionPolicy policy = a.policy;
    for (const std::string& c : candidates)
      if (std::find(quantized.begin(), quantized.end(), c) == quantized.end())
        policy.keep_nodes[c] = "auto";
    return run_pass(a, *graph, policy, table);
  };
  runtime::SensitivityOptions options;
  options.target_error = a.target_error;
  QRT_ASSIGN_OR_RETURN(
      const runtime::SensitivityResult found,
      runtime::search_sensitive_layers(graph, registry, batches, candidates, quantize, options));

  ir::passes::PrecisionPolicy policy = a.policy;
  const std::string of = " of " + std::to_string(found.layers.size());
  const std::string target_text = "target " + short_number(found.target_error);
  std::printf("sensitivity (model-output relative MSE with one layer %s, %s)\n", target.c_str(),
              target_text.c_str());
  std::printf("  rank  sensitivity  layer\n");
  for (const runtime::LayerSensitivity& l : found.layers) {
    const std::string measured =
        "sensitivity " + short_number(l.error) + " (rank " + std::to_string(l.rank) + of + ")";
    if (l.keep) {
      policy.keep_nodes[l.node] = "auto, " + measured + ", " + target_text;
    } else {
      policy.notes[l.node] = "auto, " + measured + ", " + target_text;
    }
    std::printf("  %4d  %11.3g  %s%s\n", l.rank, l.error, l.node.c_str(),
                l.keep ? "  (kept fp16)" : "");
  }
  std::printf("model-output error: %.3g with every candidate quantized, %.3g with %zu kept (%s)\n",
              found.error_all_quantized, found.final_error, found.keep.size(), target_text.c_str());
  if (!found.target_met)
    std::printf("warning: the target is not met even with every candidate kept in fp16\n");
  return run_pass(a, *graph, policy, table);
}

Result<ir::Graph> convert(const QuantizeArgs& a, const std::shared_ptr<const ir::Graph>& graph) {
  const bool calibrates = a.mode == Mode::kStatic || a.auto_keep;
  if (!calibrates) return run_pass(a, *graph, a.policy, nullptr);

  auto data = read_npy(a.calib);
  if (!data.is_ok()) return data.status().with_context("--calib");
  QRT_ASSIGN_OR_RETURN(auto batches, calibration_batches(*graph, a.calib, *data, a.calib_batch));
  runtime::KernelRegistry registry;
  QRT_RETURN_IF_ERROR(register_backends(runtime::Device::kCpu, registry));
  std::optional<ir::CalibrationTable> table;
  if (a.mode == Mode::kStatic) {
    runtime::CalibrationOptions options;
    options.method = *runtime::calibration_method_from_name(a.method_name);
    QRT_ASSIGN_OR_RETURN(table, runtime::calibrate(graph, registry, batches, options));
    std::printf("calibrated %zu values on %zu batches (%s)\n", table->ranges.size(), batches.size(),
                a.method_name.c_str());
  }
  const ir::CalibrationTable* t = table ? &*table : nullptr;
  if (!a.auto_keep) return run_pass(a, *graph, a.policy, t);
  return convert_auto(a, graph, registry, batches, t);
}

// The converted model as saved: with activations fused into their Linears unless --no-fuse.
Result<ir::Graph> deployment_graph(const QuantizeArgs& a,
                                   const std::shared_ptr<const ir::Graph>& graph) {
  QRT_ASSIGN_OR_RETURN(ir::Graph converted, convert(a, graph));
  if (!a.fuse) return converted;
  return ir::passes::fuse_activations(converted);
}

std::size_t weight_bytes(const ir::Graph& g) {
  std::size_t bytes = 0;
  for (const ir::Value& v : g.values)
    if (v.is_constant()) bytes += v.data->size();
  return bytes;
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

void print_decisions(const ir::Graph& g) {
  std::size_t name_width = 4, precision_width = 9;
  for (const ir::Node& n : g.nodes) {
    if (!ir::passes::is_weighted(n)) continue;
    name_width = std::max(name_width, n.name.size());
    precision_width = std::max(precision_width, n.precision.precision.size());
  }
  std::printf("  %s  %-6s  %s  %s\n", pad("node", name_width).c_str(), "op",
              pad("precision", precision_width).c_str(), "reason");
  for (const ir::Node& n : g.nodes) {
    if (!ir::passes::is_weighted(n)) continue;
    std::string reason = n.precision.reason.empty() ? "-" : n.precision.reason;
    if (n.precision.outlier_threshold > 0) {
      char extra[48];
      std::snprintf(extra, sizeof(extra), " (outlier threshold %g)",
                    static_cast<double>(n.precision.outlier_threshold));
      reason += extra;
    }
    std::printf("  %s  %-6s  %s  %s\n", pad(n.name, name_width).c_str(), ir::op_name(n.op),
                pad(n.precision.precision, precision_width).c_str(), reason.c_str());
  }
}

double ratio(std::uintmax_t after, std::uintmax_t before) {
  return before == 0 ? 0.0 : static_cast<double>(after) / static_cast<double>(before);
}

}  // namespace

int quantize_command(std::span<const std::string> args) {
  auto parsed = parse_quantize_args(args);
  if (!parsed.is_ok()) return report_error(parsed.status(), kExitUsage);
  const QuantizeArgs& a = *parsed;
  if (a.help) {
    std::fputs(usage_text(), stdout);
    return kExitOk;
  }

  auto loaded = ir::load_model_file(a.model);
  if (!loaded.is_ok()) return report_error(load_error(a.model, loaded.status()));
  const auto graph = std::make_shared<const ir::Graph>(std::move(loaded).value());

  auto converted = deployment_graph(a, graph);
  if (!converted.is_ok()) return report_error(converted.status());
  if (Status s = ir::save_model_file(*converted, a.output); !s.is_ok()) return report_error(s);

  std::printf("quantized %s -> %s (mode %s)\n", a.model.c_str(), a.output.c_str(),
              a.mode_name.c_str());
  std::printf("layers\n");
  print_decisions(*converted);
  if (a.fuse) {
    const std::string fused = ir::passes::fused_linear_names(*converted);
    std::printf("fused         %s\n", fused.empty() ? "none" : fused.c_str());
  }
  std::error_code ec_before, ec_after;
  const std::uintmax_t file_before = std::filesystem::file_size(a.model, ec_before);
  const std::uintmax_t file_after = std::filesystem::file_size(a.output, ec_after);
  const std::size_t weights_before = weight_bytes(*graph);
  const std::size_t weights_after = weight_bytes(*converted);
  std::printf("weight bytes  %zu -> %zu  (%.3fx)\n", weights_before, weights_after,
              ratio(weights_after, weights_before));
  if (!ec_before && !ec_after)
    std::printf("file bytes    %ju -> %ju  (%.3fx)\n", file_before, file_after,
                ratio(file_after, file_before));
  return kExitOk;
}

}  // namespace qrt::tools
