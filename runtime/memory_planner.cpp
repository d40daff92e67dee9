#include "runtime/memory_planner.h"

#include <algorithm>
#include <numeric>

namespace qrt::runtime {

namespace {

std::size_t align_up(std::size_t x, std::size_t alignment) {
  return (x + alignment - 1) / alignment * alignment;
}

bool lifetimes_overlap(const BufferLifetime& a, const BufferLifetime& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

}  // namespace

// Greedy by size (TensorFlow Lite Micro's GreedyMemoryPlanner): the largest buffers are placed
// first, since they constrain the layout most; each buffer goes to the lowest aligned offset whose
// byte range is free of every already-placed buffer that is alive at the same time. The arena is
// the highest end offset reached. Callers keep the sizes far from SIZE_MAX (the Session checks the
// total first).
MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers, std::size_t alignment) {
  if (alignment == 0) alignment = 1;
  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);

  std::vector<std::size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  // Deterministic order: size descending, then earlier first use, then index.
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (buffers[a].size != buffers[b].size) return buffers[a].size > buffers[b].size;
    return buffers[a].first_step < buffers[b].first_step;
  });

  struct Placed {
    std::size_t offset;
    std::size_t end;
  };
  std::vector<std::size_t> placed;  // indices into `buffers`, in placement order
  std::vector<Placed> conflicts;
  for (std::size_t i : order) {
    const BufferLifetime& b = buffers[i];
    if (b.size == 0) continue;  // occupies no bytes; offset 0 is as good as any
    conflicts.clear();
    for (std::size_t j : placed)
      if (lifetimes_overlap(b, buffers[j]))
        conflicts.push_back({plan.offsets[j], plan.offsets[j] + buffers[j].size});
    std::sort(conflicts.begin(), conflicts.end(),
              [](const Placed& x, const Placed& y) { return x.offset < y.offset; });
    // Walk the conflicting ranges by offset; the first gap large enough wins.
    std::size_t candidate = 0;
    for (const Placed& c : conflicts) {
      if (candidate + b.size <= c.offset) break;
      candidate = std::max(candidate, align_up(c.end, alignment));
    }
    plan.offsets[i] = candidate;
    plan.arena_bytes = std::max(plan.arena_bytes, candidate + b.size);
    placed.push_back(i);
  }
  return plan;
}

}  // namespace qrt::runtime
