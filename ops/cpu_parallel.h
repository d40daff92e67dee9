// Splits a loop over [0, total) into chunks run on short-lived std::threads (the calling thread
// works too). No pool and no global state: the optimized GEMMs call this only for problems large
// enough that a thread start (tens of microseconds) is noise.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace qrt::ops {

// Worker threads to use by default: every hardware thread this process may see (at least 1).
// Asked once: glibc answers hardware_concurrency() by opening and reading /sys on every call,
// which costs more than a small GEMV (an LSTM step asks on every projection).
inline std::size_t default_cpu_threads() {
  static const std::size_t threads = std::max<std::size_t>(1, std::thread::hardware_concurrency());
  return threads;
}

// Calls body(begin, end) over chunks of [0, total) whose boundaries are multiples of `grain` (so
// register tiles are never split), using at most `threads` threads.
template <typename Body>
void parallel_split(std::size_t total, std::size_t grain, std::size_t threads, const Body& body) {
  grain = std::max<std::size_t>(1, grain);
  const std::size_t grains = (total + grain - 1) / grain;
  const std::size_t workers = std::max<std::size_t>(1, std::min(threads, grains));
  if (workers <= 1) {
    if (total > 0) body(std::size_t{0}, total);
    return;
  }
  const std::size_t per_worker = (grains + workers - 1) / workers * grain;
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (std::size_t w = 1; w < workers; ++w) {
    const std::size_t begin = std::min(total, w * per_worker);
    const std::size_t end = std::min(total, begin + per_worker);
    if (begin >= end) continue;
    try {
      pool.emplace_back([&body, begin, end] { body(begin, end); });
    } catch (...) {
      // No thread available (std::system_error): do this chunk on the calling thread instead of
      // letting an exception escape the kernel.
      body(begin, end);
    }
  }
  body(std::size_t{0}, std::min(total, per_worker));
  for (auto& t : pool) t.join();
}

// Calls body(begin, end) over the chunks [c·chunk, (c+1)·chunk) ∩ [0, total), which up to `threads`
// threads claim one after another from a shared counter. Unlike parallel_split's fixed halves, a
// thread the OS takes off its core (the machine busy with other work) holds up only the chunk in
// hand: the other threads take the rest. Chunks should be several per thread and multiples of the
// kernel's register tile.
template <typename Body>
void parallel_claim(std::size_t total, std::size_t chunk, std::size_t threads, const Body& body) {
  chunk = std::max<std::size_t>(1, chunk);
  const std::size_t chunks = (total + chunk - 1) / chunk;
  const std::size_t workers = std::max<std::size_t>(1, std::min(threads, chunks));
  if (workers <= 1) {
    if (total > 0) body(std::size_t{0}, total);
    return;
  }
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t c = next.fetch_add(1, std::memory_order_relaxed); c < chunks;
         c = next.fetch_add(1, std::memory_order_relaxed)) {
      body(c * chunk, std::min(total, (c + 1) * chunk));
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (std::size_t w = 1; w < workers; ++w) {
    try {
      pool.emplace_back(work);
    } catch (...) {
      break;  // no thread available (std::system_error): the calling thread claims the rest
    }
  }
  work();
  for (auto& t : pool) t.join();
}

}  // namespace qrt::ops
