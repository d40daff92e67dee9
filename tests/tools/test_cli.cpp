// The `qrt` program end to end: runs the built binary (path from CMake) and checks exit codes, the
// one-line error messages, `inspect` output and a good `run` against a direct computation.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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

// float32 Linear (4 terms) + tanh + add against the same formula in double: a few ulps of values
// around 1.
constexpr float kTolerance = 1e-5f;
constexpr int64_t kIn = 4, kOut = 3;

// A scratch directory with a small model: y = tanh(x·Wᵀ + b) + z, x [?, 4], z [?, 3].
class Fixture {
 public:
  Fixture() : dir_(fs::temp_directory_path() / ("qrt_test_cli_" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    w_ = testing::random_floats(kOut * kIn, seed_);
    b_ = testing::random_floats(kOut, seed_ + 1);
    testing::HandGraph h;
    const auto x = h.input("x", {ir::kDynamicDim, kIn});
    const auto z = h.input("z", {ir::kDynamicDim, kOut});
    const auto w = h.constant("fc.weight", {kOut, kIn}, w_);
    const auto b = h.constant("fc.bias", {kOut}, b_);
    const auto fc = h.node("fc", ir::OpKind::kLinear, {x, w, b});
    const auto t = h.node("act", ir::OpKind::kTanh, {fc});
    const auto y = h.node("sum", ir::OpKind::kAdd, {t, z});
    h.graph().values[static_cast<std::size_t>(y)].name = "y";
    h.output(y);
    h.graph().metadata["producer"] = "qrt cli test";
    h.graph().metadata["description"] = "tanh(linear) + z";
    model_ = (dir_ / "model.qrt").string();
    Status saved = ir::save_model_file(h.graph(), model_);
    REQUIRE_MESSAGE(saved.is_ok(), saved.to_string());
  }
  ~Fixture() { fs::remove_all(dir_); }

  CliResult run(const std::string& args) const { return testing::run_cli(dir_, args); }

  // Writes a float32 .npy input and returns its path.
  std::string npy(const std::string& name, const ir::Shape& shape, const std::vector<float>& data) {
    return testing::write_npy_file(dir_, name, shape, data);
  }
  std::string file(const std::string& name, const std::string& contents) const {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  std::vector<float> expected(const std::vector<float>& x, const std::vector<float>& z) const {
    const std::size_t rows = z.size() / kOut;
    std::vector<float> y(z.size());
    for (std::size_t r = 0; r < rows; ++r)
      for (int64_t o = 0; o < kOut; ++o) {
        double acc = b_[o];
        for (int64_t k = 0; k < kIn; ++k) acc += double(x[r * kIn + k]) * w_[o * kIn + k];
        y[r * kOut + o] = static_cast<float>(std::tanh(acc) + z[r * kOut + o]);
      }
    return y;
  }

  const fs::path& dir() const { return dir_; }
  const std::string& model() const { return model_; }
  uint64_t seed() const { return seed_; }

 private:
  fs::path dir_;
  std::string model_;
  uint64_t seed_ = 515;
  std::vector<float> w_, b_;
};

}  // namespace

TEST_CASE("qrt: usage, help and unknown commands") {
  Fixture f;
  const CliResult bare = f.run("");
  CHECK(bare.code != 0);
  CHECK(contains(bare.out, "usage: qrt"));
  const CliResult help = f.run("--help");
  CHECK(help.code == 0);
  CHECK(contains(help.out, "usage: qrt"));
  CHECK(contains(help.out, "--output-dir"));
  CHECK(f.run("run --help").code == 0);
  check_one_error_line(f.run("frobnicate"), "unknown command 'frobnicate'");
}

TEST_CASE("qrt run: bad arguments") {
  Fixture f;
  const std::string m = "'" + f.model() + "'";
  check_one_error_line(f.run("run"), "missing MODEL");
  check_one_error_line(f.run("run " + m), "missing --output-dir");
  check_one_error_line(f.run("run " + m + " --output-dir"), "--output-dir needs a value");
  check_one_error_line(f.run("run " + m + " --output-dir o --input x"), "NAME=FILE.npy");
  check_one_error_line(f.run("run " + m + " --output-dir o --device tpu"), "unknown device 'tpu'");
  check_one_error_line(f.run("run " + m + " --output-dir o --bogus"), "unknown option '--bogus'");
  check_one_error_line(f.run("run " + m + " other.qrt --output-dir o"), "expected one MODEL");
  check_one_error_line(f.run("inspect"), "missing MODEL");
}

TEST_CASE("qrt: missing and garbage models") {
  Fixture f;
  const std::string missing = (f.dir() / "no_such_model.qrt").string();
  check_one_error_line(f.run("run '" + missing + "' --output-dir o"), "no_such_model.qrt");
  check_one_error_line(f.run("inspect '" + missing + "'"), "no_such_model.qrt");
  const std::string garbage = f.file("garbage.qrt", std::string(300, 'g') + "\nnot a model\n");
  check_one_error_line(f.run("run '" + garbage + "' --output-dir o"), "garbage.qrt");
  check_one_error_line(f.run("inspect '" + garbage + "'"), "garbage.qrt");
  check_one_error_line(f.run("inspect '" + f.dir().string() + "'"), "cannot load model");
}

TEST_CASE("qrt run: bad inputs name the input") {
  Fixture f;
  const std::string m = "'" + f.model() + "' --output-dir '" + (f.dir() / "out").string() + "'";
  const std::string x = f.npy("x", {2, kIn}, testing::random_floats(2 * kIn, 1));
  const std::string z = f.npy("z", {2, kOut}, testing::random_floats(2 * kOut, 2));
  const std::string x_wide = f.npy("x_wide", {2, 5}, testing::random_floats(10, 3));

  const CliResult shape = f.run("run " + m + " --input x=" + x_wide + " --input z=" + z);
  check_one_error_line(shape, "input 'x'");
  CHECK(contains(shape.err, "[2, 5]"));
  CHECK(contains(shape.err, "[?, 4]"));

  check_one_error_line(
      f.run("run " + m + " --input x=" + x + " --input z=" + z + " --input bogus=" + z),
      "unknown input 'bogus'");
  check_one_error_line(f.run("run " + m + " --input x=" + x), "missing input 'z'");
  const std::string bad_npy = f.file("bad.npy", "\x93NUMPY but not really");
  check_one_error_line(f.run("run " + m + " --input x=" + bad_npy + " --input z=" + z), "bad.npy");
  check_one_error_line(f.run("run " + m + " --input x=/nonexistent.npy --input z=" + z),
                       "/nonexistent.npy");
}

TEST_CASE("qrt run: outputs match a direct computation") {
  Fixture f;
  MESSAGE("seed " << f.seed());
  for (int64_t batch : {1, 7}) {
    INFO("batch " << batch);
    const auto xv = testing::random_floats(static_cast<std::size_t>(batch * kIn), f.seed() + 10);
    const auto zv = testing::random_floats(static_cast<std::size_t>(batch * kOut), f.seed() + 11);
    const std::string x = f.npy("x", {batch, kIn}, xv);
    const std::string z = f.npy("z", {batch, kOut}, zv);
    const fs::path out_dir = f.dir() / "nested" / ("out" + std::to_string(batch));
    const CliResult r = f.run("run '" + f.model() + "' --input x=" + x + " --input=z=" + z +
                              " --output-dir '" + out_dir.string() + "' --strict");
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    CHECK(r.err.empty());
    CHECK(contains(r.out, "y.npy"));
    auto y = tools::read_npy((out_dir / "y.npy").string());
    REQUIRE_MESSAGE(y.is_ok(), y.status().to_string());
    CHECK(y->shape() == ir::Shape{batch, kOut});
    const auto expected = f.expected(xv, zv);
    auto got = y->span<float>();
    CHECK(testing::max_abs(expected) > 0.1f);
    CHECK(testing::max_abs_diff(std::vector<float>(got.begin(), got.end()), expected) < kTolerance);
  }
}

TEST_CASE("qrt run --device cuda: runs, or says clearly why not") {
  Fixture f;
  const auto xv = testing::random_floats(2 * kIn, 21);
  const auto zv = testing::random_floats(2 * kOut, 22);
  const std::string x = f.npy("x", {2, kIn}, xv);
  const std::string z = f.npy("z", {2, kOut}, zv);
  const fs::path out_dir = f.dir() / "cuda_out";
  const CliResult r = f.run("run '" + f.model() + "' --input x=" + x + " --input z=" + z +
                            " --output-dir '" + out_dir.string() + "' --device cuda");
  if (r.code == 0) {
    auto y = tools::read_npy((out_dir / "y.npy").string());
    REQUIRE(y.is_ok());
    auto got = y->span<float>();
    CHECK(testing::max_abs_diff(std::vector<float>(got.begin(), got.end()), f.expected(xv, zv)) <
          kTolerance);
  } else {
    MESSAGE("cuda: " << r.err);
    check_one_error_line(r, "CUDA");
  }
}

TEST_CASE("qrt inspect: header, io, nodes, weights and file size") {
  Fixture f;
  const CliResult r = f.run("inspect '" + f.model() + "'");
  INFO("stdout:\n" << r.out << "\nstderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(contains(r.out, "producer   qrt cli test"));
  CHECK(contains(r.out, "description = tanh(linear) + z"));
  CHECK(contains(r.out, "QRT1"));
  CHECK(contains(r.out, "x  f32[?, 4]"));
  CHECK(contains(r.out, "y  f32[?, 3]"));
  CHECK(contains(r.out, "fc   Linear"));
  CHECK(contains(r.out, "fc.weight:f32[3, 4]"));
  CHECK(contains(r.out, "-> y:f32[?, 3]"));
  CHECK(contains(r.out, "[fp32]"));
  const std::size_t weight_bytes = (kOut * kIn + kOut) * sizeof(float);
  CHECK(contains(r.out, std::to_string(weight_bytes) + " bytes"));
  CHECK(contains(r.out, "file bytes " + std::to_string(fs::file_size(f.model()))));
}
