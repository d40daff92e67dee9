// Activation memory planning: a pure function from buffer lifetimes to offsets in one arena.
#pragma once

#include <cstddef>
#include <vector>

namespace qrt::runtime {

struct BufferLifetime {
  std::size_t size = 0;  // bytes
  int first_step = 0;    // index of the step that writes it first
  int last_step = 0;     // index of the last step that reads it (inclusive)
};

struct MemoryPlan {
  std::vector<std::size_t> offsets;  // one per BufferLifetime, each a multiple of `alignment`
  std::size_t arena_bytes = 0;       // peak: the arena size the plan needs
};

// Places buffers so that two buffers whose lifetimes overlap never share bytes: greedy by size
// (largest first), each at the lowest aligned offset that fits, as TFLite Micro's greedy planner
// does. Zero-size buffers get offset 0 and occupy nothing.
MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers, std::size_t alignment = 64);

}  // namespace qrt::runtime
