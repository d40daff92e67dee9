// `qrt inspect MODEL`: what a model file holds, without running it.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "ir/serialize.h"
#include "tools/cli.h"

namespace qrt::tools {

namespace {

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string type_string(const ir::TensorType& t) {
  return std::string(ir::dtype_name(t.dtype)) + ir::shape_to_string(t.shape);
}

std::string value_list(const ir::Graph& g, const std::vector<ir::ValueId>& ids,
                       const std::vector<ir::TensorType>& types) {
  std::string s;
  for (ir::ValueId v : ids) {
    if (!s.empty()) s += ", ";
    if (v == ir::kNoValue) {
      s += "-";
      continue;
    }
    const ir::Value& value = g.values[static_cast<std::size_t>(v)];
    s += value.name + ":" + type_string(types[static_cast<std::size_t>(v)]);
    if (value.quant && value.quant->scheme != ir::QuantScheme::kNone)
      s += std::string(" (") + ir::quant_scheme_name(value.quant->scheme) + ")";
  }
  return s;
}

void print_header(const std::string& path, const ir::Graph& g) {
  std::printf("model      %s\n", path.c_str());
  std::printf("format     QRT1 (this reader: format version <= %u)\n", ir::kFormatVersion);
  const auto producer = g.metadata.find("producer");
  std::printf("producer   %s\n",
              producer == g.metadata.end() ? "(not recorded)" : producer->second.c_str());
  for (const auto& [key, value] : g.metadata)
    if (key != "producer") std::printf("metadata   %s = %s\n", key.c_str(), value.c_str());
}

void print_io(const char* title, const ir::Graph& g, const std::vector<ir::ValueId>& ids,
              const std::vector<ir::TensorType>& types) {
  std::printf("%s (%zu)\n", title, ids.size());
  std::size_t width = 0;
  for (ir::ValueId v : ids)
    width = std::max(width, g.values[static_cast<std::size_t>(v)].name.size());
  for (ir::ValueId v : ids)
    std::printf("  %s  %s\n", pad(g.values[static_cast<std::size_t>(v)].name, width).c_str(),
                type_string(types[static_cast<std::size_t>(v)]).c_str());
}

// The op, followed by a Linear's fused activation: "Linear+gelu".
std::string op_label(const ir::Node& n) {
  std::string label = ir::op_name(n.op);
  const auto* linear = std::get_if<ir::LinearAttrs>(&n.attrs);
  if (linear != nullptr && linear->activation != ir::FusedActivation::kNone)
    label += std::string("+") + ir::fused_activation_name(linear->activation);
  return label;
}

void print_nodes(const ir::Graph& g, const std::vector<ir::TensorType>& types) {
  std::printf("nodes (%zu)\n", g.nodes.size());
  std::size_t name_width = 0, op_width = 0;
  for (const ir::Node& n : g.nodes) {
    name_width = std::max(name_width, n.name.size());
    op_width = std::max(op_width, op_label(n).size());
  }
  for (const ir::Node& n : g.nodes) {
    std::string precision = n.precision.precision;
    if (!n.precision.reason.empty()) precision += " (" + n.precision.reason + ")";
    std::printf("  %s  %s  %s -> %s  [%s]\n", pad(n.name, name_width).c_str(),
                pad(op_label(n), op_width).c_str(), value_list(g, n.inputs, types).c_str(),
                value_list(g, n.outputs, types).c_str(), precision.c_str());
  }
}

void print_weights(const ir::Graph& g) {
  struct Tally {
    std::size_t tensors = 0;
    std::size_t bytes = 0;
  };
  std::map<std::string, Tally> by_dtype;
  Tally total;
  for (const ir::Value& v : g.values) {
    if (!v.is_constant()) continue;
    Tally& t = by_dtype[ir::dtype_name(v.dtype)];
    ++t.tensors;
    t.bytes += v.data->size();
    ++total.tensors;
    total.bytes += v.data->size();
  }
  std::printf("weights\n");
  for (const auto& [dtype, t] : by_dtype)
    std::printf("  %-6s %6zu tensors %12zu bytes\n", dtype.c_str(), t.tensors, t.bytes);
  std::printf("  %-6s %6zu tensors %12zu bytes\n", "total", total.tensors, total.bytes);
}

}  // namespace

int inspect_command(std::span<const std::string> args) {
  std::string path;
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(usage_text(), stdout);
      return kExitOk;
    }
    if (a.starts_with("-")) return report_error("inspect: unknown option '" + a + "'", kExitUsage);
    if (!path.empty())
      return report_error("inspect: expected one MODEL, got '" + path + "' and '" + a + "'",
                          kExitUsage);
    path = a;
  }
  if (path.empty())
    return report_error("inspect: missing MODEL (usage: qrt inspect MODEL)", kExitUsage);

  auto graph = ir::load_model_file(path);
  if (!graph.is_ok()) return report_error(load_error(path, graph.status()));
  const ir::Graph& g = *graph;

  // Types from the declared input shapes (dynamic dims print as '?'); the stored hints if
  // inference fails (it should not: the loader verified the graph).
  std::vector<ir::Shape> input_shapes;
  for (ir::ValueId v : g.inputs)
    input_shapes.push_back(g.values[static_cast<std::size_t>(v)].shape);
  std::vector<ir::TensorType> types;
  if (auto inferred = ir::infer_shapes(g, input_shapes); inferred.is_ok()) {
    types = std::move(inferred).value();
  } else {
    for (const ir::Value& v : g.values) types.push_back({v.dtype, v.shape});
  }

  print_header(path, g);
  print_io("inputs", g, g.inputs, types);
  print_io("outputs", g, g.outputs, types);
  print_nodes(g, types);
  print_weights(g);
  std::error_code ec;
  const auto file_bytes = std::filesystem::file_size(path, ec);
  if (!ec) std::printf("file bytes %ju\n", static_cast<uintmax_t>(file_bytes));
  return kExitOk;
}

}  // namespace qrt::tools
