// Running the built `qrt` binary from a test and checking what it printed. The binary's path comes
// from the QRT_CLI_PATH compile definition of the test target (see tests/tools/CMakeLists.txt).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "ir/shape.h"

namespace qrt::testing {

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs `qrt ARGS` through the shell, capturing stdout and stderr in files under `scratch_dir`.
// A crash reads as 128 + the signal number, so checks on `code < 128` tell exits from signals.
CliResult run_cli(const std::filesystem::path& scratch_dir, const std::string& args);

// Writes a float32 .npy file `scratch_dir/NAME.npy` (REQUIREs success) and returns its path.
std::string write_npy_file(const std::filesystem::path& scratch_dir, const std::string& name,
                           const ir::Shape& shape, const std::vector<float>& data);

bool contains(const std::string& s, const std::string& part);

// Every failure: non-zero exit (not a signal) and exactly one line "qrt: error: ..." on stderr.
void check_one_error_line(const CliResult& r, const std::string& must_contain);

}  // namespace qrt::testing
