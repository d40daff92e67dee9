// Session with the fake kernels of fake_kernels.h: results against a direct computation, input
// errors, kernel selection (strict, fallback), dynamic shapes, memory reuse, concurrency.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "runtime/session.h"
#include "tests/runtime/fake_device.h"
#include "tests/runtime/fake_kernels.h"
#include "tests/runtime/hand_graph.h"
#include "tests/runtime/session_test_graphs.h"
#include "tests/runtime/two_thread_runs.h"
#include "tests/support/random.h"

using namespace qrt;
using runtime::Device;
using runtime::NamedTensor;
using runtime::Session;
using runtime::SessionOptions;
using testing::dynamic_graph;
using testing::dynamic_reference;
using testing::HandGraph;
using testing::KernelCounters;
using testing::named;
using testing::relu;
using testing::to_vector;

namespace {

// The fake kernels evaluate exactly the float expressions the direct computation below does, in
// the same order, so results are compared bit for bit.

// y = tanh(relu(x) + w).
std::shared_ptr<const ir::Graph> static_graph(const std::vector<float>& w) {
  HandGraph h;
  const auto x = h.input("x", {3, 7});
  const auto c = h.constant("w", {3, 7}, w);
  const auto r = h.node("relu", ir::OpKind::kRelu, {x});
  const auto s = h.node("add", ir::OpKind::kAdd, {r, c});
  const auto y = h.node("tanh", ir::OpKind::kTanh, {s});
  h.output(y);
  return std::make_shared<const ir::Graph>(std::move(h.graph()));
}

runtime::KernelRegistry fake_registry(std::shared_ptr<KernelCounters> counters,
                                      bool fail_run = false) {
  runtime::KernelRegistry registry;
  testing::register_fake_kernels(registry, Device::kCpu, std::move(counters), fail_run);
  return registry;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("Session: outputs equal a direct computation; constants and inputs read in place") {
  const uint64_t seed = 101;
  MESSAGE("seed " << seed);
  const auto w = testing::random_floats(21, seed);
  const auto x = testing::random_floats(21, seed + 1);
  auto counters = std::make_shared<KernelCounters>();
  auto session = Session::create(static_graph(w), fake_registry(counters));
  REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());
  CHECK(counters->prepared == 3);  // static shapes: prepared at creation
  CHECK((*session)->input_names() == std::vector<std::string>{"x"});
  CHECK((*session)->output_names() == std::vector<std::string>{"tanh_out"});
  CHECK((*session)->kernel_names() == std::vector<std::string>{"relu: cpu.fake.relu",
                                                               "add: cpu.fake.add",
                                                               "tanh: cpu.fake.tanh"});

  auto out = (*session)->run({named("x", x, {3, 7})});
  REQUIRE_MESSAGE(out.is_ok(), out.status().to_string());
  REQUIRE(out->size() == 1);
  CHECK((*out)[0].shape() == ir::Shape{3, 7});
  std::vector<float> expected(21);
  for (int i = 0; i < 21; ++i) expected[i] = std::tanh(relu(x[i]) + w[i]);
  CHECK(testing::max_abs(expected) > 0.1f);
  CHECK(to_vector((*out)[0]) == expected);
  CHECK(counters->ran == 3);
}

TEST_CASE("Session: a graph input as output, dynamic batch re-plan") {
  auto counters = std::make_shared<KernelCounters>();
  auto session = Session::create(dynamic_graph(), fake_registry(counters));
  REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());
  CHECK(counters->created == 0);  // dynamic batch: nothing to prepare until the first run
  CHECK((*session)->arena_bytes() == 0);

  std::size_t arena_for_3 = 0;
  int created_before = 0;
  for (int64_t batch : {3, 3, 1, 11, 11, 3}) {
    const uint64_t seed = 200 + static_cast<uint64_t>(batch);
    INFO("batch " << batch << ", seed " << seed);
    const auto n = static_cast<std::size_t>(batch * 5);
    const auto x = testing::random_floats(n, seed);
    const auto b = testing::random_floats(n, seed + 1000);
    created_before = counters->created;
    auto out = (*session)->run({named("b", b, {batch, 5}), named("x", x, {batch, 5})});
    REQUIRE_MESSAGE(out.is_ok(), out.status().to_string());
    REQUIRE(out->size() == 2);
    const auto expected = dynamic_reference(x, b);
    CHECK(to_vector((*out)[0]) == expected);
    CHECK(to_vector((*out)[1]) == x);
    CHECK((*out)[0].shape() == ir::Shape{batch, 5});
    CHECK((*out)[1].data() != x.data());  // a copy, not the caller's buffer
    if (batch == 3 && arena_for_3 == 0) arena_for_3 = (*session)->arena_bytes();
  }
  CHECK(arena_for_3 > 0);
  // The last run changed shapes (11 -> 3): it re-planned with fresh kernels and the smaller arena.
  CHECK(counters->created - created_before == 4);
  CHECK((*session)->arena_bytes() == arena_for_3);
}

TEST_CASE("Session: a repeated run with the same shapes does not re-prepare") {
  auto counters = std::make_shared<KernelCounters>();
  auto session = Session::create(dynamic_graph(), fake_registry(counters));
  REQUIRE(session.is_ok());
  const auto x = testing::random_floats(10, 5);
  const auto b = testing::random_floats(10, 6);
  for (int i = 0; i < 5; ++i)
    REQUIRE((*session)->run({named("x", x, {2, 5}), named("b", b, {2, 5})}).is_ok());
  CHECK(counters->created == 4);
  CHECK(counters->prepared == 4);
  CHECK(counters->ran == 20);
}

TEST_CASE("Session: a chain reuses activation memory") {
  // Six Relus on 4x16 floats (256 bytes): at most two activations are alive at any step.
  HandGraph h;
  ir::ValueId v = h.input("x", {4, 16});
  for (int i = 0; i < 6; ++i) v = h.node("relu" + std::to_string(i), ir::OpKind::kRelu, {v});
  h.output(v);
  auto counters = std::make_shared<KernelCounters>();
  runtime::KernelRegistry registry;
  testing::register_fake_relu(registry, Device::kCpu, counters);
  auto session = Session::create(std::make_shared<const ir::Graph>(std::move(h.graph())), registry);
  REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());
  CHECK((*session)->arena_bytes() == 512);
  const auto x = testing::random_floats(64, 77);
  auto out = (*session)->run({named("x", x, {4, 16})});
  REQUIRE(out.is_ok());
  std::vector<float> expected(64);
  for (int i = 0; i < 64; ++i) expected[i] = relu(x[i]);
  CHECK(to_vector((*out)[0]) == expected);
}

TEST_CASE("Session: input errors name the input, the expected and the actual shape") {
  auto counters = std::make_shared<KernelCounters>();
  auto session = Session::create(dynamic_graph(), fake_registry(counters));
  REQUIRE(session.is_ok());
  Session& s = **session;
  const auto data = testing::random_floats(60, 9);

  auto unknown =
      s.run({named("x", data, {2, 5}), named("b", data, {2, 5}), named("bogus", data, {2, 5})});
  REQUIRE_FALSE(unknown.is_ok());
  CHECK(unknown.status().code() == StatusCode::kInvalidArgument);
  CHECK(contains(unknown.status().message(), "unknown input 'bogus'"));

  auto missing = s.run({named("x", data, {2, 5})});
  REQUIRE_FALSE(missing.is_ok());
  CHECK(contains(missing.status().message(), "missing input 'b'"));

  auto twice = s.run({named("x", data, {2, 5}), named("x", data, {2, 5})});
  REQUIRE_FALSE(twice.is_ok());
  CHECK(contains(twice.status().message(), "'x' is given more than once"));

  auto rank = s.run({named("x", data, {2, 5, 1}), named("b", data, {2, 5})});
  REQUIRE_FALSE(rank.is_ok());
  CHECK(contains(rank.status().message(), "input 'x'"));
  CHECK(contains(rank.status().message(), "[2, 5, 1]"));
  CHECK(contains(rank.status().message(), "[?, 5]"));

  auto dim = s.run({named("x", data, {2, 5}), named("b", data, {2, 6})});
  REQUIRE_FALSE(dim.is_ok());
  CHECK(contains(dim.status().message(), "input 'b'"));
  CHECK(contains(dim.status().message(), "[2, 6]"));

  NamedTensor wrong_dtype = named("x", data, {2, 5});
  wrong_dtype.tensor.dtype = ir::DType::kI32;
  auto dtype = s.run({wrong_dtype, named("b", data, {2, 5})});
  REQUIRE_FALSE(dtype.is_ok());
  CHECK(contains(dtype.status().message(), "input 'x': dtype i32, expected f32"));

  NamedTensor no_data = named("x", data, {2, 5});
  no_data.tensor.data = nullptr;
  CHECK_FALSE(s.run({no_data, named("b", data, {2, 5})}).is_ok());

  // Mismatched batches pass the per-input check and fail in shape inference, naming the node.
  auto mismatch = s.run({named("x", data, {2, 5}), named("b", data, {3, 5})});
  REQUIRE_FALSE(mismatch.is_ok());
  MESSAGE("mismatched batches: " << mismatch.status().to_string());

  // After all those errors the session still runs.
  const auto x = testing::random_floats(10, 12);
  const auto b = testing::random_floats(10, 13);
  auto good = s.run({named("x", x, {2, 5}), named("b", b, {2, 5})});
  REQUIRE_MESSAGE(good.is_ok(), good.status().to_string());
  CHECK(to_vector((*good)[0]) == dynamic_reference(x, b));
}

TEST_CASE("Session: strict mode names the node, op and device without a kernel") {
  const auto w = testing::random_floats(21, 3);
  auto graph = static_graph(w);
  auto counters = std::make_shared<KernelCounters>();
  runtime::KernelRegistry registry = fake_registry(counters);
  // A CUDA Relu only: the other nodes have CPU kernels alone.
  testing::register_fake_relu(registry, Device::kCuda, counters);
  testing::register_fake_device(registry);

  auto strict = Session::create(graph, registry, SessionOptions{Device::kCuda, true});
  REQUIRE_FALSE(strict.is_ok());
  CHECK(strict.status().code() == StatusCode::kUnsupported);
  CHECK(contains(strict.status().message(), "node 'add' (Add)"));
  CHECK(contains(strict.status().message(), "cuda"));
  CHECK(contains(strict.status().message(), "strict"));

  auto fallback = Session::create(graph, registry, SessionOptions{Device::kCuda, false});
  REQUIRE_MESSAGE(fallback.is_ok(), fallback.status().to_string());
  CHECK((*fallback)->kernel_names() ==
        std::vector<std::string>{"x: copy cpu -> cuda", "relu: cuda.fake.relu",
                                 "relu_out: copy cuda -> cpu", "add: cpu.fake.add",
                                 "tanh: cpu.fake.tanh"});
  const auto x = testing::random_floats(21, 4);
  auto out = (*fallback)->run({named("x", x, {3, 7})});
  REQUIRE(out.is_ok());
  std::vector<float> expected(21);
  for (int i = 0; i < 21; ++i) expected[i] = std::tanh(relu(x[i]) + w[i]);
  CHECK(to_vector((*out)[0]) == expected);

  // Strict CPU with every kernel present is fine.
  CHECK(Session::create(graph, registry, SessionOptions{Device::kCpu, true}).is_ok());
}

TEST_CASE("Session: a node no device supports is named") {
  const auto w = testing::random_floats(21, 3);
  auto counters = std::make_shared<KernelCounters>();
  runtime::KernelRegistry relu_only;
  testing::register_fake_relu(relu_only, Device::kCpu, counters);
  auto cpu = Session::create(static_graph(w), relu_only);
  REQUIRE_FALSE(cpu.is_ok());
  CHECK(contains(cpu.status().message(), "node 'add' (Add)"));
  CHECK(contains(cpu.status().message(), "cpu"));
  auto cuda = Session::create(static_graph(w), relu_only, SessionOptions{Device::kCuda, false});
  REQUIRE_FALSE(cuda.is_ok());
  // Relu falls back to the cpu; Add has a kernel on neither device.
  CHECK(contains(cuda.status().message(), "node 'add' (Add)"));
  CHECK(contains(cuda.status().message(), "cuda or cpu"));
}

TEST_CASE("Session: kernel prepare and run failures name the node and kernel") {
  // Broadcasting Add is valid IR, but the fake Add refuses unequal shapes in prepare.
  HandGraph h;
  const auto x = h.input("x", {3, 7});
  const std::vector<float> row(7, 0.5f);
  const auto c = h.constant("row", {7}, row);
  h.output(h.node("bias_add", ir::OpKind::kAdd, {x, c}));
  auto counters = std::make_shared<KernelCounters>();
  auto prepare = Session::create(std::make_shared<const ir::Graph>(std::move(h.graph())),
                                 fake_registry(counters));
  REQUIRE_FALSE(prepare.is_ok());
  CHECK(contains(prepare.status().message(), "node 'bias_add' (Add) [cpu.fake.add]"));
  CHECK(contains(prepare.status().message(), "equal shapes"));

  const auto w = testing::random_floats(21, 8, 0.5f, 1.0f);
  auto session = Session::create(static_graph(w), fake_registry(counters, true));
  REQUIRE(session.is_ok());
  const auto x_pos = testing::random_floats(21, 9, 0.0f, 1.0f);
  CHECK((*session)->run({named("x", x_pos, {3, 7})}).is_ok());
  std::vector<float> w_neg(21, -2.0f);
  auto failing = Session::create(static_graph(w_neg), fake_registry(counters, true));
  REQUIRE(failing.is_ok());
  auto run = (*failing)->run({named("x", x_pos, {3, 7})});
  REQUIRE_FALSE(run.is_ok());
  CHECK(
      contains(run.status().message(), "node 'add' (Add) [cpu.fake.add]: fake Add: negative sum"));
}

TEST_CASE("Session: graphs that fail verification or are null are rejected") {
  auto counters = std::make_shared<KernelCounters>();
  auto registry = fake_registry(counters);
  auto null_graph = Session::create(nullptr, registry);
  REQUIRE_FALSE(null_graph.is_ok());
  CHECK(contains(null_graph.status().message(), "null"));

  HandGraph h;
  const auto x = h.input("x", {2});
  h.output(h.node("relu", ir::OpKind::kRelu, {x + 40}));  // input id out of range
  auto bad = Session::create(std::make_shared<const ir::Graph>(std::move(h.graph())), registry);
  REQUIRE_FALSE(bad.is_ok());
  MESSAGE("bad graph: " << bad.status().to_string());
}

TEST_CASE("Session: the same output listed twice is reported, naming the output") {
  // ir::verify forbids listing a graph output twice; the Session passes verify's message on.
  HandGraph h;
  const auto x = h.input("x", {2, 3});
  const auto r = h.node("relu", ir::OpKind::kRelu, {x});
  h.output(r);
  h.output(r);
  auto counters = std::make_shared<KernelCounters>();
  auto session = Session::create(std::make_shared<const ir::Graph>(std::move(h.graph())),
                                 fake_registry(counters));
  REQUIRE_FALSE(session.is_ok());
  CHECK(contains(session.status().message(), "relu_out"));
}

TEST_CASE("Session: a graph without nodes returns its input") {
  HandGraph h;
  h.output(h.input("x", {1, 3}));
  auto counters = std::make_shared<KernelCounters>();
  auto session = Session::create(std::make_shared<const ir::Graph>(std::move(h.graph())),
                                 fake_registry(counters));
  REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());
  const std::vector<float> x = {1.5f, -2.0f, 3.25f};
  auto out = (*session)->run({named("x", x, {1, 3})});
  REQUIRE(out.is_ok());
  CHECK(to_vector((*out)[0]) == x);
}

TEST_CASE("Session: two sessions over one graph run concurrently with identical results") {
  auto graph = dynamic_graph();
  auto counters = std::make_shared<KernelCounters>();
  const auto registry = fake_registry(counters);
  constexpr int kRuns = 300;
  constexpr int64_t kBatch = 13;
  const uint64_t base_seed = 4242;
  MESSAGE("base seed " << base_seed);
  std::vector<std::vector<float>> xs, bs;
  for (int i = 0; i < kRuns; ++i) {
    xs.push_back(testing::random_floats(kBatch * 5, base_seed + 2 * i));
    bs.push_back(testing::random_floats(kBatch * 5, base_seed + 2 * i + 1));
  }
  const std::vector<std::vector<float>> a =
      testing::run_on_two_threads(graph, registry, kRuns, [&](int i) {
        // Alternate batch sizes so that re-planning happens concurrently too.
        const int64_t batch = i % 3 == 0 ? 1 : kBatch;
        return std::vector<NamedTensor>{named("x", xs[i], {batch, 5}),
                                        named("b", bs[i], {batch, 5})};
      });
  for (int i = 0; i < kRuns; i += 37) {
    const int64_t batch = i % 3 == 0 ? 1 : kBatch;
    const std::vector<float> x(xs[i].begin(), xs[i].begin() + batch * 5);
    const std::vector<float> bb(bs[i].begin(), bs[i].begin() + batch * 5);
    CHECK(a[i] == dynamic_reference(x, bb));
  }
}
