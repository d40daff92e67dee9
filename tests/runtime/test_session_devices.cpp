// Session placement on a device, with the fake device of fake_device.h (host memory behind a
// deferred stream) and the fake kernels on it: transfers at the boundaries between host and device
// steps only, results equal to the direct computation, device memory and the stream handed to
// device kernels, recording on the second run and replay after, re-planning on a new shape.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/session.h"
#include "tests/runtime/fake_device.h"
#include "tests/runtime/fake_kernels.h"
#include "tests/runtime/session_test_graphs.h"
#include "tests/support/random.h"

using namespace qrt;
using runtime::Device;
using runtime::NamedTensor;
using runtime::Session;
using runtime::SessionOptions;
using testing::dynamic_graph;
using testing::dynamic_reference;
using testing::FakeDeviceLog;
using testing::KernelCounters;
using testing::named;
using testing::relu;
using testing::to_vector;

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

struct Fixture {
  std::shared_ptr<KernelCounters> counters = std::make_shared<KernelCounters>();
  runtime::KernelRegistry registry;
  std::shared_ptr<FakeDeviceLog> log;
};

// Device kernels for every op but `skip_on_device` (which then falls back to the CPU), the CPU
// kernels, and the fake device backend.
Fixture fixture(ir::OpKind skip_on_device = ir::OpKind::kMul) {
  Fixture f;
  runtime::KernelRegistry on_device;
  testing::register_fake_kernels(on_device, Device::kCuda, f.counters);
  for (const runtime::KernelEntry& e : on_device.entries())
    if (e.op != skip_on_device) f.registry.add(e);
  testing::register_fake_kernels(f.registry, Device::kCpu, f.counters);
  f.log = testing::register_fake_device(f.registry);
  return f;
}

// Runs `session` on fresh random inputs of `batch` rows and checks both outputs.
void run_and_check(Session& session, int64_t batch, uint64_t seed) {
  INFO("seed ", seed, ", batch ", batch);
  const auto n = static_cast<std::size_t>(batch * 5);
  const auto x = testing::random_floats(n, seed, -2.0f, 2.0f);
  const auto b = testing::random_floats(n, seed + 1000);
  auto out = session.run({named("x", x, {batch, 5}), named("b", b, {batch, 5})});
  REQUIRE_MESSAGE(out.is_ok(), out.status().to_string());
  REQUIRE(out->size() == 2);
  CHECK((*out)[0].shape() == ir::Shape{batch, 5});
  CHECK(to_vector((*out)[0]) == dynamic_reference(x, b));
  CHECK(to_vector((*out)[1]) == x);
}

}  // namespace

TEST_CASE("Session devices: mixed placement inserts transfers only at boundaries") {
  Fixture f = fixture(ir::OpKind::kAdd);  // Add falls back to the CPU
  auto session = Session::create(dynamic_graph(), f.registry, SessionOptions{Device::kCuda});
  REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());
  CHECK(f.log->backends == 1);
  run_and_check(**session, 3, 11);
  CHECK((*session)->kernel_names() ==
        std::vector<std::string>{"x: copy cpu -> cuda", "relu: cuda.fake.relu",
                                 "relu_out: copy cuda -> cpu", "add_x: cpu.fake.add",
                                 "add_x_out: copy cpu -> cuda", "tanh: cuda.fake.tanh",
                                 "tanh_out: copy cuda -> cpu", "add_b: cpu.fake.add"});
  CHECK(f.log->copies_to_device == 2);
  CHECK(f.log->copies_to_host == 2);
  CHECK((*session)->device_arena_bytes() > 0);
  CHECK((*session)->arena_bytes() > 0);
  // Host steps between device steps: never recorded.
  for (uint64_t seed = 12; seed < 15; ++seed) run_and_check(**session, 3, seed);
  CHECK(f.log->captures == 0);
  CHECK_FALSE((*session)->replayed_last_run());
  CHECK(f.log->copies_to_device == 8);
}

TEST_CASE("Session devices: a CPU-only session has no device arena and no backend") {
  Fixture f = fixture();
  auto session = Session::create(dynamic_graph(), f.registry);
  REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());
  run_and_check(**session, 2, 21);
  CHECK(f.log->backends == 0);
  CHECK((*session)->device_arena_bytes() == 0);
  CHECK((*session)->kernel_names().size() == 4);
}

TEST_CASE("Session devices: all on the device, recorded on the 2nd run, replayed after") {
  Fixture f = fixture();
  auto session = Session::create(dynamic_graph(), f.registry, SessionOptions{Device::kCuda});
  REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());
  Session& s = **session;

  run_and_check(s, 2, 31);
  CHECK(s.kernel_names() == std::vector<std::string>{"x: copy cpu -> cuda", "relu: cuda.fake.relu",
                                                     "add_x: cuda.fake.add", "tanh: cuda.fake.tanh",
                                                     "b: copy cpu -> cuda", "add_b: cuda.fake.add",
                                                     "add_b_out: copy cuda -> cpu"});
  CHECK(f.log->captures == 0);
  CHECK_FALSE(s.replayed_last_run());
  CHECK(f.counters->ran == 4);

  run_and_check(s, 2, 32);  // recorded, then replayed: every kernel ran once
  CHECK(f.log->captures == 1);
  CHECK(f.log->replays == 1);
  CHECK(s.replayed_last_run());
  CHECK(f.counters->ran == 8);
  CHECK(f.log->recording == std::vector<std::string>{"copy to device", "cuda.fake.relu",
                                                     "cuda.fake.add", "cuda.fake.tanh",
                                                     "copy to device", "cuda.fake.add",
                                                     "copy to host"});

  run_and_check(s, 2, 33);  // new inputs reach the recording through the host staging
  CHECK(f.log->captures == 1);
  CHECK(f.log->replays == 2);
  CHECK(f.counters->ran == 12);
  CHECK(f.log->copies_to_device == 6);
  CHECK(f.log->copies_to_host == 3);

  // A new shape re-plans: prepared again, run unrecorded, recorded again on its 2nd run.
  const int prepared = f.counters->prepared;
  run_and_check(s, 5, 34);
  CHECK(f.counters->prepared == prepared + 4);
  CHECK_FALSE(s.replayed_last_run());
  CHECK(f.log->replays == 2);
  run_and_check(s, 5, 35);
  CHECK(f.log->captures == 2);
  CHECK(s.replayed_last_run());
  run_and_check(s, 5, 36);
  CHECK(f.log->captures == 2);
  CHECK(f.log->replays == 4);
  run_and_check(s, 1, 37);  // smaller: the arenas are reused, the recording is not
  CHECK_FALSE(s.replayed_last_run());
  CHECK(f.log->backends == 1);
}

TEST_CASE("Session devices: observed runs copy device values out and are never recorded") {
  Fixture f = fixture();
  auto session = Session::create(dynamic_graph(), f.registry, SessionOptions{Device::kCuda});
  REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());
  Session& s = **session;
  for (uint64_t seed = 41; seed < 44; ++seed) run_and_check(s, 2, seed);
  REQUIRE(f.log->replays == 2);

  const uint64_t seed = 45;
  INFO("seed ", seed);
  const auto x = testing::random_floats(10, seed, -2.0f, 2.0f);
  const auto b = testing::random_floats(10, seed + 1);
  std::map<std::string, std::vector<float>> seen;
  auto out = s.run({named("x", x, {2, 5}), named("b", b, {2, 5})},
                   [&](const ir::Value& value, const runtime::ConstTensorView& view) -> Status {
                     if (view.device != Device::kCpu)
                       return internal_error(value.name + " observed on the device");
                     const float* p = view.as<float>();
                     seen[value.name] = {p, p + view.numel()};
                     return Status::ok();
                   });
  REQUIRE_MESSAGE(out.is_ok(), out.status().to_string());
  CHECK_FALSE(s.replayed_last_run());
  CHECK(f.log->replays == 2);
  CHECK(seen.size() == 6);
  std::vector<float> expected_relu(10);
  for (int i = 0; i < 10; ++i) expected_relu[i] = relu(x[i]);
  CHECK(seen["relu_out"] == expected_relu);
  CHECK(seen["add_b_out"] == dynamic_reference(x, b));
  CHECK(to_vector((*out)[0]) == dynamic_reference(x, b));

  run_and_check(s, 2, 46);  // the recording survives the observed run
  CHECK(f.log->replays == 3);
  CHECK(f.log->captures == 1);
}

TEST_CASE("Session devices: recording is off by option, or for a kernel that cannot be recorded") {
  SUBCASE("capture_graphs = false") {
    Fixture f = fixture();
    SessionOptions options{Device::kCuda};
    options.capture_graphs = false;
    auto session = Session::create(dynamic_graph(), f.registry, options);
    REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());
    for (uint64_t seed = 51; seed < 54; ++seed) run_and_check(**session, 3, seed);
    CHECK(f.log->captures == 0);
    CHECK(f.counters->ran == 12);
  }
  SUBCASE("a kernel that is not capturable") {
    Fixture f;
    testing::register_uncapturable_fake_relu(f.registry, f.counters);
    testing::register_fake_kernels(f.registry, Device::kCuda, f.counters);
    testing::register_fake_kernels(f.registry, Device::kCpu, f.counters);
    f.log = testing::register_fake_device(f.registry);
    auto session = Session::create(dynamic_graph(), f.registry, SessionOptions{Device::kCuda});
    REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());
    CHECK((*session)->kernel_names()[1] == "relu: cuda.fake.uncapturable_relu");
    for (uint64_t seed = 55; seed < 58; ++seed) run_and_check(**session, 3, seed);
    CHECK(f.log->captures == 0);
  }
  SUBCASE("a backend that cannot record") {
    Fixture f = fixture();
    f.log->can_capture = false;
    auto session = Session::create(dynamic_graph(), f.registry, SessionOptions{Device::kCuda});
    REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());
    for (uint64_t seed = 58; seed < 61; ++seed) run_and_check(**session, 3, seed);
    CHECK(f.log->captures == 0);
  }
}

TEST_CASE("Session devices: strict mode, a missing backend and a failing backend are named") {
  Fixture f = fixture(ir::OpKind::kAdd);
  auto strict = Session::create(dynamic_graph(), f.registry, SessionOptions{Device::kCuda, true});
  REQUIRE_FALSE(strict.is_ok());
  CHECK(contains(strict.status().message(), "node 'add_x' (Add)"));
  CHECK(contains(strict.status().message(), "strict"));

  runtime::KernelRegistry no_backend;
  testing::register_fake_kernels(no_backend, Device::kCuda, f.counters);
  auto missing = Session::create(dynamic_graph(), no_backend, SessionOptions{Device::kCuda});
  REQUIRE_FALSE(missing.is_ok());
  CHECK(contains(missing.status().message(), "no cuda device backend"));

  no_backend.set_device_backend(Device::kCuda,
                                []() -> Result<std::unique_ptr<runtime::DeviceBackend>> {
                                  return device_error("no CUDA device: none in this test");
                                });
  auto failing = Session::create(dynamic_graph(), no_backend, SessionOptions{Device::kCuda});
  REQUIRE_FALSE(failing.is_ok());
  CHECK(failing.status().code() == StatusCode::kDeviceError);
  CHECK(contains(failing.status().message(), "no CUDA device: none in this test"));
}

TEST_CASE("Session devices: a device kernel's failure surfaces at the run's synchronization") {
  Fixture f;
  testing::register_fake_kernels(f.registry, Device::kCuda, f.counters,
                                 /*fail_run_on_negative_sum=*/true);
  f.log = testing::register_fake_device(f.registry);
  auto session = Session::create(dynamic_graph(), f.registry, SessionOptions{Device::kCuda});
  REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());
  const std::vector<float> x(10, -1.0f), b(10, -1.0f);  // add_b sums to -10 - 10·tanh(0)
  auto failed = (*session)->run({named("x", x, {2, 5}), named("b", b, {2, 5})});
  REQUIRE_FALSE(failed.is_ok());
  CHECK(contains(failed.status().message(), "fake Add: negative sum"));
  CHECK(contains(failed.status().message(), "cuda.fake.add"));
  CHECK(contains(failed.status().message(), "finishing the run"));
  // The session still runs afterwards (inputs in [0, 1): every sum is positive).
  const auto good_x = testing::random_floats(10, 71, 0.0f, 1.0f);
  const auto good_b = testing::random_floats(10, 72, 0.0f, 1.0f);
  auto good = (*session)->run({named("x", good_x, {2, 5}), named("b", good_b, {2, 5})});
  REQUIRE_MESSAGE(good.is_ok(), good.status().to_string());
  CHECK(to_vector((*good)[0]) == dynamic_reference(good_x, good_b));
}
