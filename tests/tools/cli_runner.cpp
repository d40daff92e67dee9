#include "tests/tools/cli_runner.h"

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tools/npy.h"

#ifndef QRT_CLI_PATH
#error "QRT_CLI_PATH must name the built qrt binary"
#endif

namespace qrt::testing {

namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

CliResult run_cli(const std::filesystem::path& scratch_dir, const std::string& args) {
  const std::filesystem::path out = scratch_dir / "stdout.txt", err = scratch_dir / "stderr.txt";
  const std::string command = std::string("'") + QRT_CLI_PATH + "' " + args + " >'" + out.string() +
                              "' 2>'" + err.string() + "'";
  const int status = std::system(command.c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

std::string write_npy_file(const std::filesystem::path& scratch_dir, const std::string& name,
                           const ir::Shape& shape, const std::vector<float>& data) {
  const std::string path = (scratch_dir / (name + ".npy")).string();
  REQUIRE(tools::write_npy(path, shape, data).is_ok());
  return path;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

void check_one_error_line(const CliResult& r, const std::string& must_contain) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.code != 0);
  CHECK(r.code < 128);  // an exit, not a signal (crash)
  CHECK(r.err.rfind("qrt: error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(contains(r.err, must_contain));
}

}  // namespace qrt::testing
