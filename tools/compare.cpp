// `qrt compare A.qrt B.qrt --input NAME=FILE.npy ...`: runs two models (typically a float model and
// a quantized version of it) on the same inputs, observes every activation, pairs them by value
// name and prints, per layer, the error of B against A: SQNR (dB), cosine similarity and max abs
// error (definitions: ir/quant_error.h). The int8 codes a static int8 chain passes between ops
// (ir/precision.h, docs/quantization.md §4) are compared as the values they stand for,
// s·(q − z) with the value's own per-tensor parameters, and their rows say so.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ir/passes/passes.h"
#include "ir/quant_error.h"
#include "ir/serialize.h"
#include "runtime/session.h"
#include "tools/backend.h"
#include "tools/cli.h"
#include "tools/npy_inputs.h"
#include "tools/option_reader.h"

namespace qrt::tools {

namespace {

constexpr std::string_view kCommand = "compare";

struct CompareArgs {
  std::string model_a;
  std::string model_b;
  std::vector<std::pair<std::string, std::string>> inputs;  // name, .npy path
  bool help = false;
};

Result<CompareArgs> parse_compare_args(std::span<const std::string> args) {
  static constexpr std::string_view kValued[] = {"--input"};
  QRT_ASSIGN_OR_RETURN(auto parsed, parse_arguments(kCommand, args, kValued, {}));
  CompareArgs r;
  for (const ParsedArgument& a : parsed) {
    if (a.name == "--help" && !a.positional) {
      r.help = true;
    } else if (a.positional) {
      if (r.model_a.empty()) {
        r.model_a = a.name;
      } else if (r.model_b.empty()) {
        r.model_b = a.name;
      } else {
        return invalid_argument("compare: expected two models, got a third: '" + a.name + "'");
      }
    } else if (a.name == "--input") {
      const auto eq = a.value.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == a.value.size())
        return invalid_argument("compare: --input expects NAME=FILE.npy, got '" + a.value + "'");
      r.inputs.emplace_back(a.value.substr(0, eq), a.value.substr(eq + 1));
    }
  }
  if (r.help) return r;
  if (r.model_b.empty())
    return invalid_argument("compare: expected two models A.qrt B.qrt (see qrt --help)");
  if (r.inputs.empty()) return invalid_argument("compare: missing --input NAME=FILE.npy");
  return r;
}

// One observed activation as float: f32 as produced, or int8 codes dequantized.
struct Activation {
  ir::Shape shape;
  std::vector<float> data;
  bool dequantized = false;
};

// Every float or int8-code activation one run produced, by value name, in the order the run
// produced them, and the model's Linears with a fused activation ("fc1+relu", whose input to the
// activation is not a value of that model).
struct Activations {
  std::vector<std::string> order;
  std::map<std::string, Activation> values;
  std::string fused_linears;
};

// s·(q − z) for each of n codes.
template <typename T>
std::vector<float> dequantize_codes(const T* q, int64_t n, float scale, int32_t zero_point) {
  std::vector<float> out(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    out[static_cast<std::size_t>(i)] = scale * static_cast<float>(int32_t{q[i]} - zero_point);
  return out;
}

// The values i8 / u8 codes with per-tensor parameters stand for (symmetric: z = 0); nullopt for
// any other view.
std::optional<std::vector<float>> dequantized(const ir::Value& value,
                                              const runtime::ConstTensorView& view) {
  const bool per_tensor =
      value.quant && (value.quant->scheme == ir::QuantScheme::kSymmetricPerTensor ||
                      value.quant->scheme == ir::QuantScheme::kAffinePerTensor);
  if (!per_tensor || value.quant->scales.size() != 1 || value.quant->zero_points.size() > 1)
    return std::nullopt;
  const float scale = value.quant->scales[0];
  const int32_t z = value.quant->zero_points.empty() ? 0 : value.quant->zero_points[0];
  if (view.dtype == ir::DType::kI8)
    return dequantize_codes(view.as<int8_t>(), view.numel(), scale, z);
  if (view.dtype == ir::DType::kU8)
    return dequantize_codes(view.as<uint8_t>(), view.numel(), scale, z);
  return std::nullopt;
}

Result<Activations> observe_run(const std::string& path,
                                const std::vector<runtime::NamedTensor>& inputs) {
  auto loaded = ir::load_model_file(path);
  if (!loaded.is_ok()) return invalid_argument(load_error(path, loaded.status()));
  const auto graph = std::make_shared<const ir::Graph>(std::move(loaded).value());
  runtime::KernelRegistry registry;
  QRT_RETURN_IF_ERROR(register_backends(runtime::Device::kCpu, registry));
  auto session = runtime::Session::create(graph, registry);
  if (!session.is_ok()) return session.status().with_context("model '" + path + "'");

  std::set<std::string> input_names;
  for (ir::ValueId v : graph->inputs)
    input_names.insert(graph->values[static_cast<std::size_t>(v)].name);
  Activations seen;
  seen.fused_linears = ir::passes::fused_linear_names(*graph);
  // The views are valid only during the callback: copy. Graph inputs are the same on both sides
  // and are left out.
  const runtime::ValueObserver observer = [&](const ir::Value& value,
                                              const runtime::ConstTensorView& view) -> Status {
    if (view.device != runtime::Device::kCpu || !view.present() ||
        input_names.count(value.name) != 0 || seen.values.count(value.name) != 0)
      return Status::ok();
    Activation seen_value{view.shape, {}, false};
    if (view.dtype == ir::DType::kF32) {
      const float* data = view.as<float>();
      seen_value.data.assign(data, data + view.numel());
    } else if (auto codes = dequantized(value, view)) {
      seen_value.data = std::move(*codes);
      seen_value.dequantized = true;
    } else {
      return Status::ok();
    }
    seen.values.emplace(value.name, std::move(seen_value));
    seen.order.push_back(value.name);
    return Status::ok();
  };
  auto outputs = (*session)->run(inputs, observer);
  if (!outputs.is_ok()) return outputs.status().with_context("running model '" + path + "'");
  return seen;
}

std::string format_db(double db) {
  if (std::isinf(db)) return db > 0 ? "inf" : "-inf";
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f", db);
  return text;
}

// "only in A: fc1_out, fc2_out", and why when the other model fuses activations into its Linears
// (`qrt quantize` does by default): the Linear's own output, the activation's input, is then not a
// value there.
void print_unpaired(const char* side, const std::vector<std::string>& names,
                    const std::string& fused_here, const char* other,
                    const std::string& fused_there) {
  if (names.empty()) return;
  constexpr std::size_t kListed = 10;
  std::string list;
  for (std::size_t i = 0; i < names.size() && i < kListed; ++i)
    list += (i == 0 ? "" : ", ") + names[i];
  if (names.size() > kListed) list += ", ... (" + std::to_string(names.size() - kListed) + " more)";
  std::printf("only in %s: %s\n", side, list.c_str());
  if (!fused_there.empty() && fused_here != fused_there)
    std::printf(
        "  %s applies activations inside its Linears (%s), so their pre-activation outputs "
        "are not values of %s; `qrt quantize --no-fuse` keeps them\n",
        other, fused_there.c_str(), other);
}

}  // namespace

int compare_command(std::span<const std::string> args) {
  auto parsed = parse_compare_args(args);
  if (!parsed.is_ok()) return report_error(parsed.status(), kExitUsage);
  const CompareArgs& a = *parsed;
  if (a.help) {
    std::fputs(usage_text(), stdout);
    return kExitOk;
  }

  auto inputs = read_npy_inputs(a.inputs);
  if (!inputs.is_ok()) return report_error(inputs.status());
  const std::vector<runtime::NamedTensor>& named = inputs->named;

  auto seen_a = observe_run(a.model_a, named);
  if (!seen_a.is_ok()) return report_error(seen_a.status());
  auto seen_b = observe_run(a.model_b, named);
  if (!seen_b.is_ok()) return report_error(seen_b.status());

  std::size_t width = 5;
  for (const std::string& name : seen_a->order) width = std::max(width, name.size());
  std::printf("compare %s (A) with %s (B): error of B against A per activation\n",
              a.model_a.c_str(), a.model_b.c_str());
  std::printf("%-*s  %-16s  %10s  %10s  %12s\n", static_cast<int>(width), "value", "shape",
              "SQNR dB", "cosine", "max abs err");
  std::size_t paired = 0;
  std::vector<std::string> only_a;
  for (const std::string& name : seen_a->order) {
    const auto other = seen_b->values.find(name);
    if (other == seen_b->values.end()) {
      only_a.push_back(name);
      continue;
    }
    ++paired;
    const Activation& value_a = seen_a->values.at(name);
    const Activation& value_b = other->second;
    const ir::Shape& shape_a = value_a.shape;
    const ir::Shape& shape_b = value_b.shape;
    const char* note =
        value_a.dequantized || value_b.dequantized ? "  (int8 codes, dequantized)" : "";
    const std::string shape = ir::shape_to_string(shape_a);
    if (shape_a != shape_b) {
      std::printf("%-*s  %-16s  shape differs in B: %s\n", static_cast<int>(width), name.c_str(),
                  shape.c_str(), ir::shape_to_string(shape_b).c_str());
      continue;
    }
    auto error = ir::quantization_error(value_a.data, value_b.data);
    if (!error.is_ok()) {
      std::printf("%-*s  %-16s  %s\n", static_cast<int>(width), name.c_str(), shape.c_str(),
                  error.status().message().c_str());
      continue;
    }
    std::printf("%-*s  %-16s  %10s  %10.6f  %12.4g%s\n", static_cast<int>(width), name.c_str(),
                shape.c_str(), format_db(error->snr_db).c_str(), error->cosine_similarity,
                error->max_abs_error, note);
  }
  std::vector<std::string> only_b;
  for (const std::string& name : seen_b->order)
    if (seen_a->values.count(name) == 0) only_b.push_back(name);
  std::printf("%zu activations paired by name; %zu only in A, %zu only in B\n", paired,
              only_a.size(), only_b.size());
  print_unpaired("A", only_a, seen_a->fused_linears, "B", seen_b->fused_linears);
  print_unpaired("B", only_b, seen_b->fused_linears, "A", seen_a->fused_linears);
  if (paired == 0)
    return report_error("compare: the two models share no activation names; nothing to compare");
  return kExitOk;
}

}  // namespace qrt::tools
