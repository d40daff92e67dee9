// Seeded random data for tests. Every generator prints its seed (through doctest's INFO/MESSAGE at
// the call site) so a failure can be replayed: tests pass the seed explicitly.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace qrt::testing {

// Uniform floats in [lo, hi), reproducible from `seed`.
std::vector<float> random_floats(std::size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f);
// Normal(0, stddev) floats, reproducible from `seed`.
std::vector<float> random_normal(std::size_t n, uint64_t seed, float stddev = 1.0f);
// Uniform integer in [lo, hi], reproducible from `seed`.
int64_t random_int(uint64_t seed, int64_t lo, int64_t hi);

// Largest |a[i] - b[i]|; sizes must match.
float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b);
float max_abs(const std::vector<float>& a);

}  // namespace qrt::testing
