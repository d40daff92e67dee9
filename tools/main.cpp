// `qrt`: the command-line program. Dispatches to the subcommands in cli.h.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "tools/cli.h"

namespace {

int dispatch(const std::vector<std::string>& args) {
  using namespace qrt::tools;
  if (args.empty()) {
    std::fputs(usage_text(), stdout);
    return kExitUsage;
  }
  const std::string& command = args[0];
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(usage_text(), stdout);
    return kExitOk;
  }
  const std::span<const std::string> rest(args.data() + 1, args.size() - 1);
  if (command == "inspect") return inspect_command(rest);
  if (command == "run") return run_command(rest);
  if (command == "quantize") return quantize_command(rest);
  if (command == "compare") return compare_command(rest);
  if (command == "finetune") return finetune_command(rest);
  return report_error(
      "unknown command '" + command +
          "' (expected inspect, run, quantize, compare or finetune; see qrt --help)",
      kExitUsage);
}

}  // namespace

int main(int argc, char** argv) {
  // Last resort: the library reports errors as Status, but a std::bad_alloc from the standard
  // library (or a bug) must still end in one clear line rather than std::terminate.
  try {
    return dispatch(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    return qrt::tools::report_error(std::string("internal error: ") + e.what());
  } catch (...) {
    return qrt::tools::report_error("internal error: unknown exception");
  }
}
