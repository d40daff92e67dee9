// A repeated run with unchanged input shapes allocates nothing but its outputs: this executable
// replaces the global allocation functions with counting ones (only this test links them).
#include <doctest/doctest.h>

#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "runtime/session.h"
#include "tests/runtime/fake_kernels.h"
#include "tests/runtime/hand_graph.h"
#include "tests/support/random.h"

namespace {
thread_local long g_allocations = 0;

void* counted_alloc(std::size_t size, std::size_t alignment) {
  ++g_allocations;
  if (size == 0) size = 1;
  if (alignment <= alignof(std::max_align_t)) return std::malloc(size);
  return std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
}
}  // namespace

void* operator new(std::size_t n) {
  if (void* p = counted_alloc(n, 0)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return counted_alloc(n, 0);
}
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = counted_alloc(n, static_cast<std::size_t>(a))) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  std::free(p);
}

using namespace qrt;

TEST_CASE("Session: a repeated run allocates only its outputs") {
  testing::HandGraph h;
  const auto x = h.input("x_with_a_name_longer_than_small_string_storage", {ir::kDynamicDim, 9});
  const auto r = h.node("relu", ir::OpKind::kRelu, {x});
  const auto t = h.node("tanh_with_workspace", ir::OpKind::kTanh, {r});
  const auto s = h.node("add", ir::OpKind::kAdd, {t, x});
  h.output(s);
  h.output(t);
  auto counters = std::make_shared<testing::KernelCounters>();
  runtime::KernelRegistry registry;
  testing::register_fake_kernels(registry, runtime::Device::kCpu, counters);
  auto session =
      runtime::Session::create(std::make_shared<const ir::Graph>(std::move(h.graph())), registry);
  REQUIRE(session.is_ok());

  const auto data = testing::random_floats(5 * 9, 3);
  const std::vector<runtime::NamedTensor> batch4 = {
      {"x_with_a_name_longer_than_small_string_storage",
       runtime::ConstTensorView{ir::DType::kF32, {4, 9}, data.data()}}};
  const std::vector<runtime::NamedTensor> batch5 = {
      {"x_with_a_name_longer_than_small_string_storage",
       runtime::ConstTensorView{ir::DType::kF32, {5, 9}, data.data()}}};

  auto measure = [&](const std::vector<runtime::NamedTensor>& inputs) {
    const long before = g_allocations;
    auto out = (*session)->run(inputs);
    const long used = g_allocations - before;
    REQUIRE(out.is_ok());
    return used;
  };
  const long first = measure(batch4);     // plans
  const long repeated = measure(batch4);  // same shapes
  const long replanned = measure(batch5);
  MESSAGE("allocations: first run " << first << ", repeated " << repeated << ", re-planned "
                                    << replanned);
  // Outputs: the result vector, then per output tensor its shape and its data.
  constexpr long kOutputs = 2;
  CHECK(repeated <= 1 + 2 * kOutputs);
  CHECK(repeated > 0);  // the counter sees the outputs, so it is counting
  CHECK(replanned > repeated);
  CHECK(measure(batch5) == repeated);
}
