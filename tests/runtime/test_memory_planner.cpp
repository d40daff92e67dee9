// The memory planner: random lifetimes checked against the invariants any valid plan satisfies, and
// hand cases whose optimal layout is known.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "runtime/memory_planner.h"

using qrt::runtime::BufferLifetime;
using qrt::runtime::MemoryPlan;
using qrt::runtime::plan_memory;

namespace {

std::size_t align_up(std::size_t x, std::size_t a) {
  return (x + a - 1) / a * a;
}

bool lifetimes_overlap(const BufferLifetime& a, const BufferLifetime& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

std::vector<BufferLifetime> random_lifetimes(uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int num_steps = std::uniform_int_distribution<int>(1, 31)(rng);
  const int count = std::uniform_int_distribution<int>(1, 67)(rng);
  std::vector<BufferLifetime> buffers;
  for (int i = 0; i < count; ++i) {
    BufferLifetime b;
    const int first = std::uniform_int_distribution<int>(0, num_steps - 1)(rng);
    b.first_step = first;
    b.last_step =
        std::uniform_int_distribution<int>(first, std::min(num_steps - 1, first + 6))(rng);
    // Sizes include 0, 1, primes and non-multiples of the alignment.
    const int kind = std::uniform_int_distribution<int>(0, 9)(rng);
    b.size = kind == 0   ? 0
             : kind == 1 ? 1
                         : std::uniform_int_distribution<std::size_t>(2, 5003)(rng);
    buffers.push_back(b);
  }
  return buffers;
}

void check_plan(const std::vector<BufferLifetime>& buffers, const MemoryPlan& plan,
                std::size_t alignment) {
  REQUIRE(plan.offsets.size() == buffers.size());
  std::size_t end = 0;
  std::size_t aligned_total = 0;
  int last_step = 0;
  for (std::size_t i = 0; i < buffers.size(); ++i) {
    INFO("buffer " << i);
    CHECK(plan.offsets[i] % alignment == 0);
    if (buffers[i].size > 0) end = std::max(end, plan.offsets[i] + buffers[i].size);
    aligned_total += align_up(buffers[i].size, alignment);
    last_step = std::max(last_step, buffers[i].last_step);
    for (std::size_t j = i + 1; j < buffers.size(); ++j) {
      if (buffers[i].size == 0 || buffers[j].size == 0) continue;
      if (!lifetimes_overlap(buffers[i], buffers[j])) continue;
      INFO("buffers " << i << " and " << j << " are alive together");
      const bool disjoint = plan.offsets[i] + buffers[i].size <= plan.offsets[j] ||
                            plan.offsets[j] + buffers[j].size <= plan.offsets[i];
      CHECK(disjoint);
    }
  }
  CHECK(plan.arena_bytes == end);
  CHECK(plan.arena_bytes <= aligned_total);
  std::size_t max_live = 0;
  for (int step = 0; step <= last_step; ++step) {
    std::size_t live = 0;
    for (const auto& b : buffers)
      if (b.first_step <= step && step <= b.last_step) live += b.size;
    max_live = std::max(max_live, live);
  }
  CHECK(plan.arena_bytes >= max_live);
}

}  // namespace

TEST_CASE("plan_memory: random lifetimes satisfy the plan invariants") {
  for (std::size_t alignment : {std::size_t{1}, std::size_t{16}, std::size_t{64}}) {
    for (uint64_t seed = 1; seed <= 40; ++seed) {
      INFO("seed " << seed << ", alignment " << alignment);
      const auto buffers = random_lifetimes(seed);
      const MemoryPlan plan = plan_memory(buffers, alignment);
      check_plan(buffers, plan, alignment);
    }
  }
  MESSAGE("plan_memory checked on seeds 1..40 at alignments 1, 16, 64");
}

TEST_CASE("plan_memory: is deterministic") {
  const auto buffers = random_lifetimes(7);
  const MemoryPlan a = plan_memory(buffers);
  const MemoryPlan b = plan_memory(buffers);
  CHECK(a.offsets == b.offsets);
  CHECK(a.arena_bytes == b.arena_bytes);
}

TEST_CASE("plan_memory: a chain a -> b -> c reuses a's memory for c") {
  // Step 0 writes a, step 1 reads a and writes b, step 2 reads b and writes c.
  const std::vector<BufferLifetime> chain = {{100, 0, 1}, {100, 1, 2}, {100, 2, 3}};
  const MemoryPlan plan = plan_memory(chain, 64);
  CHECK(plan.offsets[0] == 0);
  CHECK(plan.offsets[1] == 128);  // 100 rounded up to the alignment
  CHECK(plan.offsets[2] == 0);    // a is dead by step 2
  CHECK(plan.arena_bytes == 228);
}

TEST_CASE("plan_memory: buffers alive together are stacked, largest first") {
  const std::vector<BufferLifetime> all_live = {{10, 0, 5}, {300, 0, 5}, {70, 2, 3}};
  const MemoryPlan plan = plan_memory(all_live, 64);
  CHECK(plan.offsets[1] == 0);    // largest placed first
  CHECK(plan.offsets[2] == 320);  // next largest after it, aligned
  CHECK(plan.offsets[0] == 448);
  CHECK(plan.arena_bytes == 458);
}

TEST_CASE("plan_memory: a small buffer fills a gap left between larger ones") {
  // w is alive with x and z but not with y, so it fits into the slot y had, between x and z.
  const std::vector<BufferLifetime> buffers = {
      {256, 0, 4},  // x
      {256, 0, 1},  // y
      {256, 0, 4},  // z
      {64, 3, 4},   // w
  };
  const MemoryPlan plan = plan_memory(buffers, 64);
  CHECK(plan.offsets[0] == 0);
  CHECK(plan.offsets[1] == 256);
  CHECK(plan.offsets[2] == 512);
  CHECK(plan.offsets[3] == 256);  // the lowest free offset while x and z are alive
  CHECK(plan.arena_bytes == 768);
}

TEST_CASE("plan_memory: empty input and zero-size buffers") {
  CHECK(plan_memory({}).arena_bytes == 0);
  const MemoryPlan plan = plan_memory({{0, 0, 3}, {5, 0, 3}, {0, 1, 1}}, 64);
  CHECK(plan.offsets == std::vector<std::size_t>{0, 0, 0});
  CHECK(plan.arena_bytes == 5);
}
