// `qrt run MODEL --input NAME=FILE.npy ... --output-dir DIR [--device cpu|cuda] [--strict]`.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "ir/serialize.h"
#include "runtime/session.h"
#include "tools/backend.h"
#include "tools/cli.h"
#include "tools/npy.h"
#include "tools/npy_inputs.h"

namespace qrt::tools {

namespace {

struct RunArgs {
  std::string model;
  std::vector<std::pair<std::string, std::string>> inputs;  // name, .npy path
  std::string output_dir;
  std::string device = "cpu";
  bool strict = false;
  bool help = false;
};

// Parses `--opt VALUE` and `--opt=VALUE` forms.
Result<RunArgs> parse_run_args(std::span<const std::string> args) {
  RunArgs r;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string value;
    bool has_value = false;
    if (arg.starts_with("--") && arg.find('=') != std::string::npos) {
      value = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
      has_value = true;
    }
    const auto take_value = [&]() -> Result<std::string> {
      if (has_value) return value;
      if (i + 1 >= args.size()) return invalid_argument("run: " + arg + " needs a value");
      return args[++i];
    };
    if (arg == "--help" || arg == "-h") {
      r.help = true;
    } else if (arg == "--strict") {
      if (has_value) return invalid_argument("run: --strict takes no value");
      r.strict = true;
    } else if (arg == "--input") {
      QRT_ASSIGN_OR_RETURN(std::string spec, take_value());
      const auto eq = spec.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
        return invalid_argument("run: --input expects NAME=FILE.npy, got '" + spec + "'");
      r.inputs.emplace_back(spec.substr(0, eq), spec.substr(eq + 1));
    } else if (arg == "--output-dir") {
      QRT_ASSIGN_OR_RETURN(r.output_dir, take_value());
      if (r.output_dir.empty()) return invalid_argument("run: --output-dir is empty");
    } else if (arg == "--device") {
      QRT_ASSIGN_OR_RETURN(r.device, take_value());
    } else if (arg.starts_with("-")) {
      return invalid_argument("run: unknown option '" + arg + "'");
    } else if (r.model.empty()) {
      r.model = arg;
    } else {
      return invalid_argument("run: expected one MODEL, got '" + r.model + "' and '" + arg + "'");
    }
  }
  if (r.help) return r;
  if (r.model.empty()) return invalid_argument("run: missing MODEL (see qrt --help)");
  if (r.output_dir.empty()) return invalid_argument("run: missing --output-dir DIR");
  return r;
}

// A graph output name as a file name: anything but [A-Za-z0-9._-] becomes '_', so that a name
// like "../x" or "a/b" cannot leave the output directory.
std::string file_name_for(const std::string& name) {
  std::string s = name.empty() ? std::string("output") : name;
  for (char& c : s) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
    if (!keep) c = '_';
  }
  if (s.find_first_not_of('.') == std::string::npos) s = std::string(s.size(), '_');
  return s + ".npy";
}

}  // namespace

int run_command(std::span<const std::string> args) {
  auto parsed = parse_run_args(args);
  if (!parsed.is_ok()) return report_error(parsed.status(), kExitUsage);
  const RunArgs& a = *parsed;
  if (a.help) {
    std::fputs(usage_text(), stdout);
    return kExitOk;
  }
  auto device = parse_device(a.device);
  if (!device.is_ok()) return report_error(device.status(), kExitUsage);

  auto loaded = ir::load_model_file(a.model);
  if (!loaded.is_ok()) return report_error(load_error(a.model, loaded.status()));
  auto graph = std::make_shared<const ir::Graph>(std::move(loaded).value());

  runtime::KernelRegistry registry;
  if (Status s = register_backends(*device, registry); !s.is_ok()) return report_error(s);

  auto session = runtime::Session::create(graph, registry, {*device, a.strict});
  if (!session.is_ok()) return report_error(session.status());

  // Inputs stay alive (and aligned) in these tensors while the session reads them in place.
  auto inputs = read_npy_inputs(a.inputs);
  if (!inputs.is_ok()) return report_error(inputs.status());

  auto outputs = (*session)->run(inputs->named);
  if (!outputs.is_ok()) return report_error(outputs.status());

  std::error_code ec;
  std::filesystem::create_directories(a.output_dir, ec);
  if (ec)
    return report_error("cannot create output directory '" + a.output_dir + "': " + ec.message());
  if (!std::filesystem::is_directory(a.output_dir, ec))
    return report_error("output directory '" + a.output_dir + "' is not a directory");

  const std::vector<std::string> names = (*session)->output_names();
  for (std::size_t i = 0; i < outputs->size(); ++i) {
    const runtime::Tensor& out = (*outputs)[i];
    if (out.dtype() != ir::DType::kF32)
      return report_error("output '" + names[i] + "' has dtype " + ir::dtype_name(out.dtype()) +
                          "; only f32 outputs can be written as .npy");
    const std::string path =
        (std::filesystem::path(a.output_dir) / file_name_for(names[i])).string();
    if (Status s = write_npy(path, out.shape(), out.span<float>()); !s.is_ok())
      return report_error(s);
    std::printf("%s  f32%s  -> %s\n", names[i].c_str(), ir::shape_to_string(out.shape()).c_str(),
                path.c_str());
  }
  return kExitOk;
}

}  // namespace qrt::tools
