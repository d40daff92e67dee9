// Small CPU kernels for testing the Session independently of the real kernels in ops/: Relu, Add
// (equal shapes), and Tanh computed through its workspace. They count how often they are created,
// prepared and run, so tests can tell whether a run re-planned. Registered for kCuda they run on
// the fake device of fake_device.h (the registry then needs register_fake_device): they check that
// they get device memory and the stream, and enqueue their work there.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "runtime/kernel_registry.h"

namespace qrt::testing {

struct KernelCounters {
  std::atomic<int> created{0};
  std::atomic<int> prepared{0};
  std::atomic<int> ran{0};
};

// Registers the fake Relu, Add and Tanh for `device`, named "<device>.fake.<op>". With
// `fail_run_on_negative_sum`, the Add kernel's run fails when its output sums below zero (a
// data-dependent error to test how the Session reports run failures).
void register_fake_kernels(runtime::KernelRegistry& registry, runtime::Device device,
                           std::shared_ptr<KernelCounters> counters,
                           bool fail_run_on_negative_sum = false);

// Only a fake Relu.
void register_fake_relu(runtime::KernelRegistry& registry, runtime::Device device,
                        std::shared_ptr<KernelCounters> counters);

// A fake-device Relu ("cuda.fake.uncapturable_relu") whose kernel declares itself not capturable.
void register_uncapturable_fake_relu(runtime::KernelRegistry& registry,
                                     std::shared_ptr<KernelCounters> counters);

}  // namespace qrt::testing
