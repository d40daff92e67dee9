// Static int8 chains (ir/precision.h): int8 codes kept between consecutive int8-static Linears,
// through Relu and Reshape. The pass marks the values, verify accepts them only there, the CPU
// kernels run them, and the file format round-trips them.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/passes/passes.h"
#include "ir/serialize.h"
#include "ops/register.h"
#include "runtime/calibration.h"
#include "runtime/session.h"
#include "tests/passes/pass_fixtures.h"

namespace {

using namespace qrt;
using namespace qrt::ir;
using namespace qrt::ir::passes;
using namespace qrt::passes_test;

// Float epilogues of the hand-checked case: one float rounding per operation on values near 1.
constexpr float kHandTolerance = 1e-5f;
// Slack on top of the one-code bound: float rounding of the output sum (K ≤ 32 terms near 1).
constexpr float kFloatSlack = 1e-4f;

Graph ok(Result<Graph> r) {
  INFO(r.status().to_string());
  REQUIRE(r.is_ok());
  REQUIRE(verify(*r).is_ok());
  return std::move(r).value();
}

PrecisionPolicy quantize_all() {
  PrecisionPolicy p;
  p.keep_first = false;
  p.keep_last = false;
  return p;
}

const std::string& output_name(const Graph& g, const std::string& node_name) {
  return g.values[static_cast<size_t>(node(g, node_name).outputs[0])].name;
}

struct RunResult {
  std::vector<float> y;
  std::vector<std::string> kernels;
  std::map<std::string, std::vector<float>> observed;  // f32 values, or int8 codes as floats
};

RunResult run(const Graph& g, const Shape& shape, const std::vector<float>& x) {
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  auto session = runtime::Session::create(std::make_shared<const Graph>(g), registry,
                                          {runtime::Device::kCpu, true});
  INFO(session.status().to_string());
  REQUIRE(session.is_ok());
  RunResult r;
  runtime::ConstTensorView view{DType::kF32, shape, x.data(), runtime::Device::kCpu};
  auto observer = [&r](const Value& v, const runtime::ConstTensorView& t) -> Status {
    const int64_t n = numel(t.shape);
    std::vector<float>& out = r.observed[v.name];
    for (int64_t i = 0; i < n; ++i) {
      if (t.dtype == DType::kI8) out.push_back(t.as<int8_t>()[i]);
      if (t.dtype == DType::kU8) out.push_back(t.as<uint8_t>()[i]);
      if (t.dtype == DType::kF32) out.push_back(t.as<float>()[i]);
    }
    return Status::ok();
  };
  auto outputs = (*session)->run({{"x", view}}, observer);
  INFO(outputs.status().to_string());
  REQUIRE(outputs.is_ok());
  const auto y = (*outputs)[0].span<const float>();
  r.y.assign(y.begin(), y.end());
  r.kernels = (*session)->kernel_names();
  return r;
}

bool uses_kernel(const RunResult& r, const std::string& fragment) {
  for (const std::string& k : r.kernels)
    if (k.find(fragment) != std::string::npos) return true;
  return false;
}

// x [?, 2] -> fc1 -> relu -> fc2 -> fc3 -> y, weights chosen so every int8 code is exact.
Graph hand_graph() {
  frontends::GraphBuilder b;
  ValueId h = b.input("x", {kDynamicDim, 2});
  const std::vector<float> w1 = {1, 0, -1, 1}, b1 = {0.1f, 0}, w2 = {1, 1, 1, -1};
  const std::vector<float> w3 = {1, 0.25f}, b3 = {0.25f};
  h = b.linear("fc1", h, b.constant("fc1.weight", {2, 2}, w1), b.constant("fc1.bias", {2}, b1));
  h = b.unary("fc1.relu", OpKind::kRelu, h);
  h = b.linear("fc2", h, b.constant("fc2.weight", {2, 2}, w2));
  h = b.linear("fc3", h, b.constant("fc3.weight", {1, 2}, w3), b.constant("fc3.bias", {1}, b3));
  b.output(h, "y");
  return built(b);
}

TEST_CASE("static chain, hand-checked: codes kept between fc1 -> relu -> fc2 -> fc3") {
  const Graph g = hand_graph();
  CalibrationTable table;
  table.method = "minmax";
  table.ranges["x"] = {-1.27f, 1.27f};                       // s_x  = 0.01
  table.ranges[output_name(g, "fc1.relu")] = {0.0f, 1.27f};  // s_r1 = 0.01
  table.ranges[output_name(g, "fc2")] = {-2.54f, 2.54f};     // s_y2 = 0.02
  StaticOptions options;
  options.policy = quantize_all();
  const Graph q = ok(quantize_static(g, table, options));

  const Value& y1 = value(q, output_name(q, "fc1"));
  const Value& r1 = value(q, output_name(q, "fc1.relu"));
  const Value& y2 = value(q, output_name(q, "fc2"));
  const Value& y3 = value(q, output_name(q, "fc3"));
  CHECK(y1.dtype == DType::kI8);
  CHECK(r1.dtype == DType::kI8);
  CHECK(y2.dtype == DType::kI8);
  CHECK(y3.dtype == DType::kF32);
  REQUIRE(y1.quant.has_value());
  CHECK(y1.quant == r1.quant);  // relu commutes: the producer uses the consumer's parameters
  CHECK(y1.quant->scales[0] == doctest::Approx(0.01f));
  CHECK(y2.quant->scales[0] == doctest::Approx(0.02f));
  CHECK(node(q, "fc1").precision.reason.find("requantized to i8 for 'fc2'") != std::string::npos);
  CHECK(node(q, "fc2").precision.reason.find("requantized to i8 for 'fc3'") != std::string::npos);

  // x = [0.5, -0.25] -> qx = [50, -25]. W1 codes [[127, 0], [-127, 127]], s_w = 1/127:
  //   y1 = 0.01/127·[6350, -9525] + [0.1, 0] = [0.6, -0.75] -> codes [60, -75]; relu -> [60, 0].
  //   fc2 codes [[127, 127], [127, -127]]: y2 = 0.01/127·[7620, 7620] = [0.6, 0.6] -> [30, 30].
  //   fc3 codes [127, 32] (0.25·127 = 31.75 -> 32): y = 0.02/127·(30·127 + 30·32) + 0.25.
  const RunResult r = run(q, {1, 2}, {0.5f, -0.25f});
  CHECK(r.observed.at(y1.name) == std::vector<float>{60, -75});
  CHECK(r.observed.at(r1.name) == std::vector<float>{60, 0});
  CHECK(r.observed.at(y2.name) == std::vector<float>{30, 30});
  const double expected = 0.02 / 127.0 * (30 * 127 + 30 * 32) + 0.25;
  REQUIRE(r.y.size() == 1);
  CHECK(std::fabs(r.y[0] - expected) <= kHandTolerance);
  CHECK(uses_kernel(r, "linear.int8-static-chain"));
  CHECK(uses_kernel(r, "relu.int8"));
}

// x [?, 13] -> fc1 [31, 13] -> relu -> reshape -> fc2 [17, 31] -> fc3 [5, 17]: primes everywhere.
Graph random_mlp(uint64_t seed) {
  MESSAGE("random mlp weights seed " << seed);
  frontends::GraphBuilder b;
  ValueId h = b.input("x", {kDynamicDim, 13});
  h = b.linear("fc1", h, random_constant(b, "fc1.weight", {31, 13}, seed + 1),
               random_constant(b, "fc1.bias", {31}, seed + 2));
  h = b.unary("fc1.relu", OpKind::kRelu, h);
  h = b.reshape("flat", h, {-1, 31});
  h = b.linear("fc2", h, random_constant(b, "fc2.weight", {17, 31}, seed + 3),
               random_constant(b, "fc2.bias", {17}, seed + 4));
  h = b.linear("fc3", h, random_constant(b, "fc3.weight", {5, 17}, seed + 5));
  b.output(h, "y");
  return built(b);
}

CalibrationTable calibrate(const Graph& g, uint64_t seed) {
  MESSAGE("calibration data seed " << seed);
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  const std::vector<float> data = testing::random_normal(64 * 13, seed, 1.0f);
  std::vector<std::vector<runtime::NamedTensor>> batches;
  for (int64_t first = 0; first < 64; first += 16)
    batches.push_back(
        {{"x", {DType::kF32, {16, 13}, data.data() + first * 13, runtime::Device::kCpu}}});
  runtime::CalibrationOptions options;
  options.progress = false;
  auto table = runtime::calibrate(std::make_shared<const Graph>(g), registry, batches, options);
  INFO(table.status().to_string());
  REQUIRE(table.is_ok());
  return std::move(table).value();
}

TEST_CASE("static chain equals the float-between-ops static graph within one step") {
  const uint64_t seed = kSeed + 7;
  const Graph g = random_mlp(seed);
  const CalibrationTable table = calibrate(g, seed + 100);
  for (const bool symmetric : {true, false}) {
    CAPTURE(symmetric);
    StaticOptions options;
    options.policy = quantize_all();
    options.symmetric = symmetric;
    const Graph chain = ok(quantize_static(g, table, options));
    options.int8_between_ops = false;
    const Graph floats = ok(quantize_static(g, table, options));

    const DType codes = symmetric ? DType::kI8 : DType::kU8;
    for (const char* n : {"fc1", "fc1.relu", "flat", "fc2"}) {
      CAPTURE(n);
      CHECK(value(chain, output_name(chain, n)).dtype == codes);
      CHECK(value(floats, output_name(floats, n)).dtype == DType::kF32);
    }
    CHECK(value(chain, output_name(chain, "fc3")).dtype == DType::kF32);

    for (const int64_t rows : {1, 7}) {
      CAPTURE(rows);
      const std::vector<float> x =
          testing::random_normal(static_cast<size_t>(rows * 13), seed + 200 + rows);
      const RunResult a = run(chain, {rows, 13}, x);
      const RunResult b = run(floats, {rows, 13}, x);
      CHECK(uses_kernel(a, "reshape.int8"));
      REQUIRE(testing::max_abs(b.y) > 0.0f);

      // fc3's input: the chain holds codes, the float graph the float values fc3 quantizes.
      const Value& x3 = value(chain, output_name(chain, "fc2"));
      const float s = x3.quant->scales[0];
      const float z =
          x3.quant->zero_points.empty() ? 0.0f : static_cast<float>(x3.quant->zero_points[0]);
      const float qmin = symmetric ? -127.0f : 0.0f, qmax = symmetric ? 127.0f : 255.0f;
      const std::vector<float>& chain_codes = a.observed.at(x3.name);
      const std::vector<float>& float_values = b.observed.at(x3.name);
      REQUIRE(chain_codes.size() == float_values.size());
      int differing = 0;
      for (size_t i = 0; i < chain_codes.size(); ++i) {
        const float expected = std::clamp(std::nearbyint(float_values[i] / s) + z, qmin, qmax);
        CHECK(std::fabs(chain_codes[i] - expected) <= 1.0f);
        differing += chain_codes[i] != expected;
      }
      MESSAGE("codes differing from the float-between-ops graph: " << differing << " of "
                                                                   << chain_codes.size());
      // One code step on each of fc3's inputs moves output n by at most s·Σ_k |ŵ3[n, k]|.
      const Value& w3 = value(chain, "fc3.weight");
      const auto q3 = w3.data->as<int8_t>();
      float bound = 0.0f;
      for (int64_t n = 0; n < 5; ++n) {
        float row = 0.0f;
        for (int64_t k = 0; k < 17; ++k)
          row += std::fabs(q3[static_cast<size_t>(n * 17 + k)]) *
                 w3.quant->scales[static_cast<size_t>(n)];
        bound = std::max(bound, s * row);
      }
      CHECK(testing::max_abs_diff(a.y, b.y) <= bound + kFloatSlack);
    }
  }
}

TEST_CASE("static chain: a value with a float reader stays f32") {
  const Graph g = random_mlp(kSeed + 11);
  const CalibrationTable table = calibrate(g, kSeed + 12);
  StaticOptions options;
  options.policy = quantize_all();
  options.policy.keep_patterns = {"fc2"};  // fc2 kept in fp16: fc1 has no int8 reader
  options.policy.keep_precision = Precision::kFP16;
  const Graph q = ok(quantize_static(g, table, options));
  CHECK(node(q, "fc2").precision.precision == "fp16");
  for (const char* n : {"fc1", "fc1.relu", "flat", "fc2"})
    CHECK(value(q, output_name(q, n)).dtype == DType::kF32);
  CHECK(node(q, "fc1").precision.reason.find("requantized") == std::string::npos);

  // A second reader that is not quantized (a graph output) also keeps it float.
  frontends::GraphBuilder b;
  ValueId x = b.input("x", {kDynamicDim, 13});
  ValueId h = b.linear("fc1", x, random_constant(b, "fc1.weight", {31, 13}, 1));
  ValueId y = b.linear("fc2", h, random_constant(b, "fc2.weight", {3, 31}, 2));
  b.output(y, "y");
  b.output(b.unary("gate", OpKind::kSigmoid, h), "gate");
  const Graph two = built(b);
  CalibrationTable t2;
  t2.ranges["x"] = {-1, 1};
  t2.ranges[two.values[static_cast<size_t>(h)].name] = {-2, 2};
  StaticOptions o2;
  o2.policy = quantize_all();
  const Graph q2 = ok(quantize_static(two, t2, o2));
  CHECK(q2.values[static_cast<size_t>(h)].dtype == DType::kF32);
}

TEST_CASE("static chain: serialize round trip keeps codes, parameters and outputs") {
  const Graph g = random_mlp(kSeed + 21);
  const CalibrationTable table = calibrate(g, kSeed + 22);
  StaticOptions options;
  options.policy = quantize_all();
  options.symmetric = false;
  const Graph q = ok(quantize_static(g, table, options));
  auto bytes = serialize_model(q);
  REQUIRE(bytes.is_ok());
  const size_t padded = (bytes->size() + 63) / 64 * 64;  // the loader wants 64-byte alignment
  std::shared_ptr<void> buffer(std::aligned_alloc(64, padded), std::free);
  REQUIRE(buffer != nullptr);
  std::memcpy(buffer.get(), bytes->data(), bytes->size());
  auto loaded = load_model_from_memory(buffer.get(), bytes->size(), buffer);
  INFO(loaded.status().to_string());
  REQUIRE(loaded.is_ok());
  REQUIRE(loaded->values.size() == q.values.size());
  for (size_t v = 0; v < q.values.size(); ++v) {
    CAPTURE(q.values[v].name);
    const Value& back = loaded->values[static_cast<size_t>(loaded->find_value(q.values[v].name))];
    CHECK(back.dtype == q.values[v].dtype);
    CHECK(back.quant == q.values[v].quant);
  }
  CHECK(node(*loaded, "fc1").precision == node(q, "fc1").precision);
  const std::vector<float> x = testing::random_normal(3 * 13, kSeed + 23);
  CHECK(run(*loaded, {3, 13}, x).y == run(q, {3, 13}, x).y);
}

// A copy of the hand graph's quantized form with one value edited, and the verify message.
std::string verify_message(const std::function<void(Graph&)>& edit) {
  const Graph g = hand_graph();
  CalibrationTable table;
  table.ranges["x"] = {-1.27f, 1.27f};
  table.ranges[output_name(g, "fc1.relu")] = {0.0f, 1.27f};
  table.ranges[output_name(g, "fc2")] = {-2.54f, 2.54f};
  StaticOptions options;
  options.policy = quantize_all();
  Graph q = ok(quantize_static(g, table, options));
  edit(q);
  const Status s = verify(q);
  return s.is_ok() ? "" : s.message();
}

TEST_CASE("verify: int8 activations only inside static chains, with clear errors") {
  // A float consumer of codes.
  std::string m = verify_message([](Graph& q) {
    Node& fc2 = q.nodes[static_cast<size_t>(q.find_node("fc2"))];
    fc2.precision.precision = "int8-dynamic";
  });
  INFO(m);
  CHECK(m.find("read by node 'fc2'") != std::string::npos);
  // Codes as a graph output.
  m = verify_message([](Graph& q) { q.outputs.push_back(q.nodes[0].outputs[0]); });
  CHECK(m.find("is a graph output") != std::string::npos);
  // Codes without parameters.
  m = verify_message(
      [](Graph& q) { q.values[static_cast<size_t>(q.nodes[0].outputs[0])].quant.reset(); });
  CHECK(m.find("needs symmetric") != std::string::npos);
  // A relu whose output parameters differ from its input's.
  m = verify_message([](Graph& q) {
    Value& r = q.values[static_cast<size_t>(
        q.nodes[static_cast<size_t>(q.find_node("fc1.relu"))].outputs[0])];
    r.quant->scales[0] *= 2.0f;
  });
  CHECK(m.find("same dtype and quantization parameters") != std::string::npos);
  // The producer is not int8-static.
  m = verify_message([](Graph& q) {
    q.nodes[static_cast<size_t>(q.find_node("fc1"))].precision.precision = "w8a16";
  });
  CHECK(m.find("only an int8-static Linear writes int8 codes") != std::string::npos);
}

}  // namespace

TEST_CASE("static chain: a NaN input is an error naming the node, not undefined codes") {
  const Graph g = hand_graph();
  CalibrationTable table;
  table.ranges["x"] = {-1.27f, 1.27f};
  table.ranges[output_name(g, "fc1.relu")] = {0.0f, 1.27f};
  table.ranges[output_name(g, "fc2")] = {-2.54f, 2.54f};
  StaticOptions options;
  options.policy = quantize_all();
  const Graph q = ok(quantize_static(g, table, options));
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  auto session = runtime::Session::create(std::make_shared<const Graph>(q), registry);
  REQUIRE(session.is_ok());
  const std::vector<float> x = {0.5f, std::nanf("")};
  auto r = (*session)->run({{"x", {DType::kF32, {1, 2}, x.data(), runtime::Device::kCpu}}});
  REQUIRE_FALSE(r.is_ok());
  INFO(r.status().message());
  CHECK(r.status().message().find("fc1") != std::string::npos);
  CHECK(r.status().message().find("column 1") != std::string::npos);
}
