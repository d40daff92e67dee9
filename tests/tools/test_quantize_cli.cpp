// `qrt quantize` and `qrt compare` end to end: runs the built binary (path from CMake) on a small
// three-Linear model and checks exit codes, one-line errors, the per-layer decisions (also as
// `qrt inspect` shows them from the saved file) and the per-activation error table.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "ir/serialize.h"
#include "tests/runtime/hand_graph.h"
#include "tests/support/random.h"
#include "tests/tools/cli_runner.h"
#include "tools/npy.h"

using namespace qrt;
namespace fs = std::filesystem;
using testing::check_one_error_line;
using testing::CliResult;
using testing::contains;

namespace {

// x [?, 64] -> fc1 (64 -> 64) -> relu -> fc2 (64 -> 64) -> relu -> fc3 (64 -> 5). K = 64 everywhere
// so NF4's default block of 64 divides every row; 5 outputs (a prime) for the last layer.
constexpr int64_t kIn = 64, kHidden = 64, kOut = 5;
constexpr int64_t kRows = 7;

// The line of `text` that starts (after spaces) with `first_word` followed by a space.
std::string line_of(const std::string& text, const std::string& first_word) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto start = line.find_first_not_of(' ');
    if (start != std::string::npos &&
        line.compare(start, first_word.size() + 1, first_word + " ") == 0)
      return line;
  }
  return "";
}

class Fixture {
 public:
  Fixture()
      : dir_(fs::temp_directory_path() / ("qrt_test_quantize_" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    testing::HandGraph h;
    const auto x = h.input("x", {ir::kDynamicDim, kIn});
    auto linear = [&](const std::string& name, ir::ValueId in, int64_t k, int64_t n,
                      uint64_t seed) {
      const auto w = h.constant(name + ".weight", {n, k}, testing::random_floats(n * k, seed));
      const auto b = h.constant(name + ".bias", {n}, testing::random_floats(n, seed + 1));
      return h.node(name, ir::OpKind::kLinear, {in, w, b});
    };
    const auto fc1 = linear("fc1", x, kIn, kHidden, seed_);
    const auto r1 = h.node("relu1", ir::OpKind::kRelu, {fc1});
    const auto fc2 = linear("fc2", r1, kHidden, kHidden, seed_ + 10);
    const auto r2 = h.node("relu2", ir::OpKind::kRelu, {fc2});
    h.output(linear("fc3", r2, kHidden, kOut, seed_ + 20));
    model_ = (dir_ / "model.qrt").string();
    Status saved = ir::save_model_file(h.graph(), model_);
    REQUIRE_MESSAGE(saved.is_ok(), saved.to_string());
    input_ = npy("x", {kRows, kIn}, testing::random_floats(kRows * kIn, seed_ + 30, -2.0f, 2.0f));
  }
  ~Fixture() { fs::remove_all(dir_); }

  CliResult run(const std::string& args) const { return testing::run_cli(dir_, args); }
  std::string npy(const std::string& name, const ir::Shape& shape, const std::vector<float>& data) {
    return testing::write_npy_file(dir_, name, shape, data);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // "quantize 'model.qrt' -o 'OUT' " prefix.
  std::string quantize_to(const std::string& out) const {
    return "quantize '" + model_ + "' -o '" + path(out) + "' ";
  }
  const std::string& model() const { return model_; }
  const std::string& input() const { return input_; }
  uint64_t seed() const { return seed_; }

 private:
  fs::path dir_;
  std::string model_, input_;
  uint64_t seed_ = 9173;
};

void check_usage_error(const CliResult& r, const std::string& must_contain) {
  check_one_error_line(r, must_contain);
  CHECK(r.code == 2);
}

}  // namespace

TEST_CASE("qrt quantize: bad modes and options are usage errors naming the option") {
  Fixture f;
  const std::string q = f.quantize_to("out.qrt");
  check_usage_error(f.run("quantize"), "missing MODEL");
  check_usage_error(f.run("quantize '" + f.model() + "' --mode dynamic"), "missing -o");
  check_usage_error(f.run(q), "missing --mode");
  check_usage_error(f.run(q + "--mode int3"), "unknown --mode 'int3'");
  check_usage_error(f.run(q + "--mode auto"), "unknown --mode 'auto'");
  check_usage_error(f.run(q + "--mode"), "--mode needs a value");
  check_usage_error(f.run(q + "--mode dynamic --bogus 1"), "unknown option '--bogus'");
  check_usage_error(f.run(q + "--mode dynamic --method mse"), "--method does not apply");
  check_usage_error(f.run(q + "--mode w8 --threshold 4"), "--threshold does not apply");
  check_usage_error(f.run(q + "--mode dynamic --block-size 32"), "--block-size does not apply");
  check_usage_error(f.run(q + "--mode static"), "needs --calib");
  check_usage_error(f.run(q + "--mode static --calib x.npy --method median"),
                    "unknown --method 'median'");
  check_usage_error(f.run(q + "--mode dynamic --keep first,,last"), "empty item");
  check_usage_error(f.run(q + "--mode dynamic --keep none,fc1"), "'none' cannot be combined");
  check_usage_error(f.run(q + "--mode dynamic --threshold -1"), "--threshold expects");
  check_usage_error(f.run(q + "--mode dynamic --threshold nan"), "--threshold expects");
  check_usage_error(f.run(q + "--mode nf4 --block-size 6x"), "--block-size expects");
  check_usage_error(f.run(q + "--mode dynamic --min-in-features -3"), "--min-in-features expects");
  check_usage_error(f.run(q + "--mode dynamic other.qrt"), "expected one MODEL");
  check_usage_error(f.run(q + "--mode dynamic --keep auto"), "--keep auto needs --calib");
  check_usage_error(f.run(q + "--mode fp16 --keep auto --calib x.npy"), "quantizes nothing");
  check_usage_error(f.run(q + "--mode dynamic --target-error 0.1"),
                    "--target-error does not apply");
  check_usage_error(f.run(q + "--mode dynamic --calib x.npy"), "--calib does not apply");
  check_usage_error(f.run(q + "--mode w8 --keep auto --calib x.npy --method mse"),
                    "--method does not apply");
  check_usage_error(f.run(q + "--mode w8 --keep auto --calib x.npy --target-error -1"),
                    "--target-error expects");
  const CliResult help = f.run("--help");
  CHECK(help.code == 0);
  CHECK(contains(help.out, "quantize MODEL"));
  CHECK(contains(help.out, "compare A.qrt B.qrt"));
  CHECK(contains(help.out, "--target-error E"));
  CHECK(f.run("quantize --help").code == 0);
  CHECK_FALSE(fs::exists(f.path("out.qrt")));
}

TEST_CASE("qrt quantize: errors while converting are one line, exit 1") {
  Fixture f;
  const std::string q = f.quantize_to("out.qrt");
  check_one_error_line(f.run("quantize '" + f.path("missing.qrt") + "' -o o.qrt --mode w8"),
                       "missing.qrt");
  // Block 128 does not divide K = 64.
  const CliResult nf4 = f.run(q + "--mode nf4 --keep none --block-size 128");
  check_one_error_line(nf4, "fc");
  CHECK(nf4.code == 1);
  const std::string empty = f.npy("empty", {0, kIn}, {});
  check_one_error_line(f.run(q + "--mode static --calib '" + empty + "'"), "empty");
  std::vector<float> poisoned = testing::random_floats(kRows * kIn, f.seed());
  poisoned[17] = std::numeric_limits<float>::quiet_NaN();
  const std::string nan = f.npy("nan", {kRows, kIn}, poisoned);
  check_one_error_line(f.run(q + "--mode static --calib '" + nan + "'"), "non-finite");
  const std::string wrong_rank = f.npy("rank", {kRows * kIn}, poisoned);
  check_one_error_line(f.run(q + "--mode static --calib '" + wrong_rank + "'"), "rank");
  check_one_error_line(f.run(q + "--mode static --calib '" + f.path("none.npy") + "'"), "none.npy");
  CHECK_FALSE(fs::exists(f.path("out.qrt")));
}

TEST_CASE("qrt quantize: per-layer decisions follow --keep and reach the file") {
  Fixture f;
  struct Case {
    std::string keep;                    // empty: the default (first,last)
    std::vector<std::string> precision;  // fc1, fc2, fc3
  };
  const std::vector<Case> cases = {
      {"", {"fp16", "int8-dynamic", "fp16"}},
      {"--keep none", {"int8-dynamic", "int8-dynamic", "int8-dynamic"}},
      {"--keep last", {"int8-dynamic", "int8-dynamic", "fp16"}},
      {"--keep 'fc2'", {"int8-dynamic", "fp16", "int8-dynamic"}},
      {"--keep 'first,f*3'", {"fp16", "int8-dynamic", "fp16"}},
  };
  for (const Case& c : cases) {
    INFO("keep: " << c.keep);
    const CliResult r = f.run(f.quantize_to("dyn.qrt") + "--mode dynamic " + c.keep);
    INFO("stdout:\n" << r.out << "\nstderr: " << r.err);
    REQUIRE(r.code == 0);
    CHECK(contains(r.out, "weight bytes"));
    CHECK(contains(r.out, "file bytes"));
    const CliResult inspect = f.run("inspect '" + f.path("dyn.qrt") + "'");
    INFO("inspect:\n" << inspect.out);
    REQUIRE(inspect.code == 0);
    const char* names[] = {"fc1", "fc2", "fc3"};
    for (int i = 0; i < 3; ++i) {
      INFO(names[i]);
      CHECK(contains(line_of(r.out, names[i]), " " + c.precision[i] + " "));
      CHECK(contains(line_of(inspect.out, names[i]), "[" + c.precision[i]));
    }
  }
}

TEST_CASE("qrt quantize: every mode saves a smaller model that runs") {
  Fixture f;
  const std::string calib =
      f.npy("calib", {37, kIn}, testing::random_floats(37 * kIn, f.seed() + 40, -2.0f, 2.0f));
  struct Case {
    std::string args;
    std::string precision;  // of fc2
  };
  const std::vector<Case> cases = {
      {"--mode fp16", "fp16"},
      {"--mode bf16", "bf16"},
      {"--mode w8", "w8a16"},
      {"--mode dynamic --threshold 0", "int8-dynamic"},
      {"--mode nf4 --block-size 32", "nf4"},
      // fc1 (fed by the graph input) quantized alone.
      {"--mode static --calib '" + calib + "' --method percentile --keep fc2,fc3", "fp16"},
  };
  const auto before = fs::file_size(f.model());
  for (const Case& c : cases) {
    INFO(c.args);
    const CliResult r = f.run(f.quantize_to("q.qrt") + c.args);
    INFO("stdout:\n" << r.out << "\nstderr: " << r.err);
    REQUIRE(r.code == 0);
    CHECK(contains(line_of(r.out, "fc2"), " " + c.precision + " "));
    CHECK(fs::file_size(f.path("q.qrt")) < before);
    const CliResult run = f.run("run '" + f.path("q.qrt") + "' --input x='" + f.input() +
                                "' --output-dir '" + f.path("out") + "'");
    INFO("run stderr: " << run.err);
    CHECK(run.code == 0);
  }
}

// fuse_activations by default: fc1 and fc2 apply their Relus, the file says so, and the fused
// model computes exactly what the --no-fuse one computes.
TEST_CASE("qrt quantize fuses activations into their Linears unless --no-fuse") {
  Fixture f;
  MESSAGE("seed " << f.seed());
  const CliResult fused = f.run(f.quantize_to("fused.qrt") + "--mode w8");
  INFO("stdout:\n" << fused.out << "\nstderr: " << fused.err);
  REQUIRE(fused.code == 0);
  CHECK(contains(line_of(fused.out, "fused"), "fc1+relu, fc2+relu"));
  const CliResult plain = f.run(f.quantize_to("plain.qrt") + "--mode w8 --no-fuse");
  REQUIRE(plain.code == 0);
  CHECK(line_of(plain.out, "fused").empty());

  const CliResult fused_inspect = f.run("inspect '" + f.path("fused.qrt") + "'");
  const CliResult plain_inspect = f.run("inspect '" + f.path("plain.qrt") + "'");
  INFO("fused inspect:\n" << fused_inspect.out << "\nplain inspect:\n" << plain_inspect.out);
  CHECK(contains(line_of(fused_inspect.out, "fc1"), " Linear+relu "));
  CHECK(contains(line_of(fused_inspect.out, "fc3"), " Linear "));
  CHECK(line_of(fused_inspect.out, "relu1").empty());
  CHECK(contains(line_of(plain_inspect.out, "fc1"), " Linear "));
  CHECK(contains(line_of(plain_inspect.out, "relu1"), " Relu "));

  std::vector<std::vector<char>> outputs;
  for (const std::string name : {"fused", "plain"}) {
    const std::string dir = f.path("out_" + name);
    const CliResult run = f.run("run '" + f.path(name + ".qrt") + "' --input x='" + f.input() +
                                "' --output-dir '" + dir + "'");
    INFO("run stderr: " << run.err);
    REQUIRE(run.code == 0);
    for (const auto& entry : fs::directory_iterator(dir)) {
      std::ifstream in(entry.path(), std::ios::binary);
      outputs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  REQUIRE(outputs.size() == 2);
  CHECK(outputs[0].size() > 128);  // the .npy header and 7 x 5 floats
  CHECK(outputs[0] == outputs[1]);
}

// Static int8 on a layer fed by another node: the static pass puts the activation QuantParams on
// that node's float output (ir/precision.h), so the producer's kernel (Relu here) must accept a
// float value that carries QuantParams.
TEST_CASE("qrt quantize: static int8 after another op runs") {
  Fixture f;
  const std::string calib =
      f.npy("calib", {37, kIn}, testing::random_floats(37 * kIn, f.seed() + 40, -2.0f, 2.0f));
  for (const std::string& args :
       {"--mode static --calib '" + calib + "' --calib-batch 8",
        "--mode static --calib '" + calib + "' --method entropy --keep none"}) {
    INFO(args);
    const CliResult r = f.run(f.quantize_to("q.qrt") + args);
    REQUIRE(r.code == 0);
    CHECK(contains(line_of(r.out, "fc2"), " int8-static "));
    const CliResult run = f.run("run '" + f.path("q.qrt") + "' --input x='" + f.input() +
                                "' --output-dir '" + f.path("out") + "'");
    INFO("run stderr: " << run.err);
    CHECK(run.code == 0);
  }
}

TEST_CASE("qrt compare: a model against itself is exact, against int8 it is not") {
  Fixture f;
  MESSAGE("seed " << f.seed());
  const std::string m = "'" + f.model() + "'";
  const std::string in = " --input x='" + f.input() + "'";
  check_usage_error(f.run("compare " + m + in), "expected two models");
  check_usage_error(f.run("compare " + m + " " + m), "missing --input");
  check_usage_error(f.run("compare " + m + " " + m + " --input x"), "NAME=FILE.npy");
  check_usage_error(f.run("compare " + m + " " + m + " " + m + in), "third");
  check_one_error_line(f.run("compare " + m + " '" + f.path("nope.qrt") + "'" + in), "nope.qrt");
  check_one_error_line(f.run("compare " + m + " " + m + " --input y='" + f.input() + "'"), "'y'");

  const CliResult same = f.run("compare " + m + " " + m + in);
  INFO("stdout:\n" << same.out << "\nstderr: " << same.err);
  REQUIRE(same.code == 0);
  for (const char* value : {"fc1_out", "relu1_out", "fc2_out", "relu2_out", "fc3_out"}) {
    INFO(value);
    const std::string line = line_of(same.out, value);
    CHECK(contains(line, " inf "));
    CHECK(contains(line, " 1.000000 "));
    CHECK(contains(line, "[7, "));
  }
  CHECK(contains(same.out, "5 activations paired"));

  // Unfused, so that every Linear's own output is there to pair (fusion drops fc1_out, fc2_out).
  REQUIRE(f.run(f.quantize_to("int8.qrt") + "--mode dynamic --keep none --threshold 0 --no-fuse")
              .code == 0);
  const CliResult q = f.run("compare " + m + " '" + f.path("int8.qrt") + "'" + in);
  INFO("int8 stdout:\n" << q.out << "\nstderr: " << q.err);
  REQUIRE(q.code == 0);
  for (const char* value : {"fc1_out", "fc2_out", "fc3_out"}) {
    INFO(value);
    std::istringstream fields(line_of(q.out, value));
    std::string name, shape_a, shape_b, sqnr;
    // "fc1_out  [7, 64]  SQNR  cosine  max" : the shape prints as two words.
    fields >> name >> shape_a >> shape_b >> sqnr;
    const double db = std::strtod(sqnr.c_str(), nullptr);
    // int8 with per-row activations and per-channel weights: tens of dB, never exact.
    CHECK(std::isfinite(db));
    CHECK(db > 15.0);
    CHECK(db < 80.0);
  }
  CHECK(contains(q.out, "5 activations paired"));
  CHECK_FALSE(contains(q.out, "only in A:"));

  // Fused (the default): fc1 and fc2 write relu1_out / relu2_out themselves, so their own outputs
  // are values of the float model only, and compare says which and why.
  REQUIRE(f.run(f.quantize_to("fused.qrt") + "--mode dynamic --keep none --threshold 0").code == 0);
  const CliResult fused = f.run("compare " + m + " '" + f.path("fused.qrt") + "'" + in);
  INFO("fused stdout:\n" << fused.out << "\nstderr: " << fused.err);
  REQUIRE(fused.code == 0);
  CHECK(contains(fused.out, "3 activations paired by name; 2 only in A, 0 only in B"));
  CHECK(contains(fused.out, "only in A: fc1_out, fc2_out\n"));
  CHECK(contains(fused.out, "B applies activations inside its Linears (fc1+relu, fc2+relu)"));
  CHECK_FALSE(contains(fused.out, "only in B:"));
}

// A static int8 model keeps int8 codes from fc1 to fc2 and from fc2 to fc3 (through the Relus):
// compare dequantizes those values, says so on their rows, and every layer gets a finite SQNR.
TEST_CASE("qrt compare: static int8 chain values are compared dequantized") {
  Fixture f;
  MESSAGE("seed " << f.seed());
  const std::string calib =
      f.npy("calib", {37, kIn}, testing::random_floats(37 * kIn, f.seed() + 40, -2.0f, 2.0f));
  REQUIRE(f.run(f.quantize_to("static.qrt") + "--mode static --keep none --calib '" + calib + "'")
              .code == 0);
  const CliResult r = f.run("compare '" + f.model() + "' '" + f.path("static.qrt") +
                            "' --input x='" + f.input() + "'");
  INFO("stdout:\n" << r.out << "\nstderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(contains(r.out, "5 activations paired"));
  for (const char* value : {"fc1_out", "relu1_out", "fc2_out", "relu2_out", "fc3_out"}) {
    INFO(value);
    const std::string line = line_of(r.out, value);
    std::istringstream fields(line);
    std::string name, shape_a, shape_b, sqnr;
    fields >> name >> shape_a >> shape_b >> sqnr;
    const double db = std::strtod(sqnr.c_str(), nullptr);
    CHECK(std::isfinite(db));
    CHECK(db > 10.0);
    CHECK(db < 80.0);
    // fc3's output is the graph's float output; the others are codes between int8-static Linears.
    CHECK(contains(line, "(int8 codes, dequantized)") == (std::string(value) != "fc3_out"));
  }
}

// --keep auto: a model whose middle layer has a weight with a large outlier column (per-channel
// int8 then spends its levels on that column) keeps exactly that layer; the reasons with the
// measured sensitivities reach the file and `qrt inspect`; no progress bar off a terminal.
TEST_CASE("qrt quantize --keep auto: the sensitive layer is kept fp16, with its reason") {
  Fixture f;
  constexpr uint64_t kSeed = 4421;
  MESSAGE("auto model seed " << kSeed);
  testing::HandGraph h;
  const auto x = h.input("x", {ir::kDynamicDim, kIn});
  auto linear = [&](const std::string& name, ir::ValueId in, int64_t k, int64_t n, uint64_t seed,
                    bool outlier) {
    std::vector<float> w = testing::random_normal(n * k, seed, 0.3f);
    if (outlier)
      for (int64_t r = 0; r < n; ++r) w[r * k + 3] = 60.0f;
    return h.node(name, ir::OpKind::kLinear, {in, h.constant(name + ".weight", {n, k}, w)});
  };
  const auto fc1 = linear("fc1", x, kIn, kHidden, kSeed, false);
  const auto fc2 =
      linear("fc2", h.node("relu1", ir::OpKind::kRelu, {fc1}), kHidden, kHidden, kSeed + 1, true);
  h.output(
      linear("fc3", h.node("relu2", ir::OpKind::kRelu, {fc2}), kHidden, kOut, kSeed + 2, false));
  const std::string model = f.path("outlier.qrt");
  REQUIRE(ir::save_model_file(h.graph(), model).is_ok());
  const std::string calib = f.npy("calib", {40, kIn}, testing::random_normal(40 * kIn, kSeed + 3));
  const std::string base = "quantize '" + model + "' -o '" + f.path("auto.qrt") +
                           "' --mode w8 --calib '" + calib + "' --calib-batch 16 ";

  const CliResult r = f.run(base + "--keep auto --target-error 2e-4");
  INFO("stdout:\n" << r.out << "\nstderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(contains(r.out, "sensitivity (model-output relative MSE"));
  CHECK(contains(line_of(r.out, "fc2"), " fp16 "));
  CHECK(contains(line_of(r.out, "fc2"), "kept fp16: auto, sensitivity "));
  CHECK(contains(line_of(r.out, "fc2"), "(rank 1 of 3), target 0.0002"));
  CHECK(contains(line_of(r.out, "fc1"), " w8a16 "));
  CHECK(contains(line_of(r.out, "fc1"), "quantized: w8a16 (auto, sensitivity "));
  CHECK(contains(line_of(r.out, "fc3"), " w8a16 "));
  CHECK_FALSE(contains(r.err, "\r"));  // stderr is not a terminal here
  const CliResult inspect = f.run("inspect '" + f.path("auto.qrt") + "'");
  INFO("inspect:\n" << inspect.out);
  CHECK(contains(line_of(inspect.out, "fc2"), "kept fp16: auto, sensitivity"));

  // auto together with fixed items: fc3 kept by pattern, auto chooses among fc1 and fc2.
  const CliResult mixed = f.run(base + "--keep 'auto,fc3' --target-error 2e-4");
  INFO("mixed stdout:\n" << mixed.out);
  REQUIRE(mixed.code == 0);
  CHECK(contains(line_of(mixed.out, "fc3"), "matches pattern 'fc3'"));
  CHECK(contains(line_of(mixed.out, "fc2"), "(rank 1 of 2)"));

  // A target nothing can meet keeps every candidate and says so.
  const CliResult strict = f.run(base + "--keep auto --target-error 0");
  INFO("strict stdout:\n" << strict.out);
  REQUIRE(strict.code == 0);
  CHECK(contains(strict.out, "warning: the target is not met"));
  for (const char* name : {"fc1", "fc2", "fc3"})
    CHECK(contains(line_of(strict.out, name), " fp16 "));

  // Empty calibration data is a clear error.
  const std::string empty = f.npy("empty", {0, kIn}, {});
  check_one_error_line(f.run("quantize '" + model + "' -o '" + f.path("e.qrt") +
                             "' --mode w8 --keep auto --calib '" + empty + "'"),
                       "empty");
}
