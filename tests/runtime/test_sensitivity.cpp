// The `auto` precision policy's search (runtime/sensitivity.h): the layer made sensitive (a weight
// with a large outlier column) ranks first and is the one kept; the target holds on an independent
// measurement; bad input is a clear error; the progress bar appears on a terminal only.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <pty.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "frontends/builder.h"
#include "ir/passes/passes.h"
#include "ops/register.h"
#include "runtime/sensitivity.h"
#include "tests/support/random.h"

namespace {

using namespace qrt;

constexpr uint64_t kSeed = 20261123;
constexpr int64_t kIn = 16, kHidden = 24, kOut = 4, kRows = 48, kBatch = 16;
constexpr int64_t kOutlierColumn = 5;
constexpr float kOutlier = 60.0f;  // per-channel int8 then spends its 127 levels on this column
// Relative MSE the test asks for: w8a16 layers without outliers give ~2e-5..7e-5 each here (int8
// per-channel weights), the outlier layer alone ~1e-3 (measured with the seeds below), so the
// target holds once that layer is kept and not before.
constexpr double kTarget = 3e-4;

const char* const kLayers[] = {"fc1", "fc2", "fc3", "fc4"};

// x [?, 16] -> fc1 -> relu -> fc2 -> relu -> fc3 (outlier column) -> relu -> fc4 [4, 24].
std::shared_ptr<const ir::Graph> model(uint64_t seed) {
  MESSAGE("weights seed " << seed);
  frontends::GraphBuilder b;
  ir::ValueId h = b.input("x", {ir::kDynamicDim, kIn});
  const int64_t dims[][2] = {
      {kHidden, kIn}, {kHidden, kHidden}, {kHidden, kHidden}, {kOut, kHidden}};
  for (int l = 0; l < 4; ++l) {
    const std::string name = kLayers[l];
    const int64_t n = dims[l][0], k = dims[l][1];
    std::vector<float> w = testing::random_normal(static_cast<size_t>(n * k), seed + l, 0.3f);
    if (name == "fc3")
      for (int64_t r = 0; r < n; ++r) w[static_cast<size_t>(r * k + kOutlierColumn)] = kOutlier;
    h = b.linear(name, h, b.constant(name + ".weight", {n, k}, w));
    if (l < 3) h = b.unary(name + ".relu", ir::OpKind::kRelu, h);
  }
  b.output(h, "y");
  Result<ir::Graph> g = b.build();
  REQUIRE(g.is_ok());
  return std::make_shared<const ir::Graph>(std::move(g).value());
}

struct Calibration {
  std::vector<float> data;
  std::vector<std::vector<runtime::NamedTensor>> batches;
};

Calibration calibration(uint64_t seed) {
  MESSAGE("calibration seed " << seed);
  Calibration c;
  c.data = testing::random_normal(static_cast<size_t>(kRows * kIn), seed);
  for (int64_t first = 0; first < kRows; first += kBatch)
    c.batches.push_back(
        {{"x",
          {ir::DType::kF32, {kBatch, kIn}, c.data.data() + first * kIn, runtime::Device::kCpu}}});
  return c;
}

// W8A16 with exactly `quantized` converted; the other candidates kept fp16.
runtime::QuantizeLayers w8a16_of(std::shared_ptr<const ir::Graph> g) {
  return [g](const std::vector<std::string>& quantized) -> Result<ir::Graph> {
    ir::passes::PrecisionPolicy policy;
    policy.keep_first = policy.keep_last = false;
    for (const char* name : kLayers)
      if (std::find(quantized.begin(), quantized.end(), name) == quantized.end())
        policy.keep_nodes[name] = "test";
    return ir::passes::quantize_weights(*g, policy);
  };
}

std::vector<float> outputs(const ir::Graph& g, const runtime::KernelRegistry& registry,
                           const Calibration& c) {
  auto session = runtime::Session::create(std::make_shared<const ir::Graph>(g), registry);
  REQUIRE(session.is_ok());
  std::vector<float> all;
  for (const auto& batch : c.batches) {
    auto y = (*session)->run(batch);
    REQUIRE(y.is_ok());
    const auto v = (*y)[0].span<const float>();
    all.insert(all.end(), v.begin(), v.end());
  }
  return all;
}

const std::vector<std::string> kCandidates(std::begin(kLayers), std::end(kLayers));

TEST_CASE("auto: the layer with an outlier column is the most sensitive and the one kept") {
  const auto g = model(kSeed);
  const Calibration c = calibration(kSeed + 1);
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  runtime::SensitivityOptions options;
  options.target_error = kTarget;
  options.progress = false;
  auto found =
      runtime::search_sensitive_layers(g, registry, c.batches, kCandidates, w8a16_of(g), options);
  INFO(found.status().to_string());
  REQUIRE(found.is_ok());
  for (const auto& l : found->layers)
    MESSAGE(l.node << ": sensitivity " << l.error << ", rank " << l.rank
                   << std::string(l.keep ? ", kept" : ""));
  REQUIRE(found->layers.size() == 4);
  CHECK(found->layers[2].node == "fc3");
  CHECK(found->layers[2].rank == 1);
  for (const auto& l : found->layers) CHECK(l.error > 0.0);  // every layer measurably quantized
  CHECK(found->error_all_quantized > kTarget);
  CHECK(found->keep == std::vector<std::string>{"fc3"});
  CHECK(found->target_met);
  CHECK(found->final_error <= kTarget);

  // The same model built independently: its output error is the reported final error.
  auto kept = w8a16_of(g)({"fc1", "fc2", "fc4"});
  REQUIRE(kept.is_ok());
  CHECK(kept->nodes[static_cast<size_t>(kept->find_node("fc3"))].precision.precision == "fp16");
  const std::vector<float> ref = outputs(*g, registry, c), q = outputs(*kept, registry, c);
  double err = 0.0, energy = 0.0;
  for (size_t i = 0; i < ref.size(); ++i) {
    err += (double(q[i]) - ref[i]) * (double(q[i]) - ref[i]);
    energy += double(ref[i]) * ref[i];
  }
  REQUIRE(energy > 0.0);
  CHECK(err / energy == doctest::Approx(found->final_error).epsilon(1e-9));
}

TEST_CASE("auto: an unreachable target keeps every layer and says so") {
  const auto g = model(kSeed + 10);
  const Calibration c = calibration(kSeed + 11);
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  runtime::SensitivityOptions options;
  options.target_error = 0.0;  // fp16 kept layers still round: never exactly 0
  options.progress = false;
  auto found =
      runtime::search_sensitive_layers(g, registry, c.batches, kCandidates, w8a16_of(g), options);
  REQUIRE(found.is_ok());
  CHECK(found->keep.size() == 4);
  CHECK(found->keep.front() == "fc3");
  CHECK_FALSE(found->target_met);
}

TEST_CASE("auto: bad input is a clear error") {
  const auto g = model(kSeed + 20);
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  const Calibration c = calibration(kSeed + 21);
  auto message = [&](const std::vector<std::vector<runtime::NamedTensor>>& batches,
                     const std::vector<std::string>& candidates, double target) {
    runtime::SensitivityOptions options;
    options.target_error = target;
    options.progress = false;
    auto r =
        runtime::search_sensitive_layers(g, registry, batches, candidates, w8a16_of(g), options);
    REQUIRE_FALSE(r.is_ok());
    return r.status().message();
  };
  CHECK(message({}, kCandidates, kTarget).find("no calibration batches") != std::string::npos);
  CHECK(message(c.batches, {}, kTarget).find("no candidate layers") != std::string::npos);
  CHECK(message(c.batches, {"fc9"}, kTarget).find("'fc9' is not a node") != std::string::npos);
  CHECK(message(c.batches, kCandidates, -1.0).find("target error") != std::string::npos);
  std::vector<float> zeros(static_cast<size_t>(kBatch * kIn), 0.0f);
  const std::vector<std::vector<runtime::NamedTensor>> zero_batch = {
      {{"x", {ir::DType::kF32, {kBatch, kIn}, zeros.data(), runtime::Device::kCpu}}}};
  CHECK(message(zero_batch, kCandidates, kTarget).find("all zero") != std::string::npos);
}

// Runs a search with progress on while stderr is `fd`; returns what was written to `read_fd`.
std::string stderr_during_search(int fd, int read_fd) {
  const auto g = model(kSeed + 30);
  const Calibration c = calibration(kSeed + 31);
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  std::fflush(stderr);
  const int saved = dup(STDERR_FILENO);
  REQUIRE(saved >= 0);
  REQUIRE(dup2(fd, STDERR_FILENO) >= 0);
  auto found = runtime::search_sensitive_layers(g, registry, c.batches, kCandidates, w8a16_of(g));
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  REQUIRE(found.is_ok());
  std::string text;
  char buffer[4096];
  fcntl(read_fd, F_SETFL, fcntl(read_fd, F_GETFL) | O_NONBLOCK);
  for (ssize_t n; (n = read(read_fd, buffer, sizeof(buffer))) > 0;)
    text.append(buffer, static_cast<size_t>(n));
  return text;
}

TEST_CASE("auto: the progress bar is drawn on a terminal only") {
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  CHECK(stderr_during_search(pipe_fds[1], pipe_fds[0]).empty());
  close(pipe_fds[0]);
  close(pipe_fds[1]);

  int master = -1, slave = -1;
  if (openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) {
    MESSAGE("no pseudo-terminal available: the terminal half is skipped");
    return;
  }
  const std::string shown = stderr_during_search(slave, master);
  CHECK(shown.find("sensitivity [") != std::string::npos);
  CHECK(shown.find("9/9") != std::string::npos);  // 4 alone + all + at most 4 keeps
  close(master);
  close(slave);
}

}  // namespace
