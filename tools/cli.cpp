#include "tools/cli.h"

#include <cstdio>

namespace qrt::tools {

const char* usage_text() {
  return R"(usage: qrt <command> [arguments]

commands:
  inspect MODEL            print a model's header, inputs, outputs, nodes and weight sizes
  run MODEL --input NAME=FILE.npy [--input ...] --output-dir DIR [--device cpu|cuda] [--strict]
                           run a model on float32 .npy inputs and write DIR/<output>.npy
                           per graph output (DIR is created if missing)

options of run:
  --input NAME=FILE.npy    value of graph input NAME (float32, C order); repeat per input
  --output-dir DIR         where the outputs go
  --device cpu|cuda        backend (default cpu); nodes without a kernel there run on the cpu
  --strict                 fail, naming the node, instead of falling back to the cpu

  qrt --help               this text
)";
}

int report_error(const std::string& message, int exit_code) {
  std::string line = message;
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  std::fprintf(stderr, "qrt: error: %s\n", line.c_str());
  return exit_code;
}

std::string load_error(const std::string& path, const Status& status) {
  const std::string& m = status.message();
  if (m.find(path) != std::string::npos) return "cannot load model: " + m;
  return "cannot load model '" + path + "': " + m;
}

int report_error(const Status& status, int exit_code) {
  return report_error(status.message(), exit_code);
}

}  // namespace qrt::tools
