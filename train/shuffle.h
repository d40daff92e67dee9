// Seeded shuffling that gives the same order on every platform: std::mt19937_64's output sequence
// is fixed by the standard, but std::uniform_int_distribution and std::shuffle are not, so the
// bounded draw and the Fisher-Yates loop are written here.
#pragma once

#include <cstdint>
#include <random>
#include <span>

namespace qrt::train {

// Uniform in [0, bound) (bound >= 1) by rejection: draws below 2⁶⁴ mod bound are redrawn, so every
// value has exactly the same number of preimages.
inline uint64_t uniform_below(std::mt19937_64& rng, uint64_t bound) {
  const uint64_t reject_below = (0 - bound) % bound;  // 2⁶⁴ mod bound
  for (;;) {
    const uint64_t r = rng();
    if (r >= reject_below) return r % bound;
  }
}

// Fisher-Yates (Knuth, TAOCP vol. 2, Algorithm P), from the last element down.
template <typename T>
void shuffle_in_place(std::span<T> items, std::mt19937_64& rng) {
  for (std::size_t i = items.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(uniform_below(rng, i));
    std::swap(items[i - 1], items[j]);
  }
}

}  // namespace qrt::train
