// Randomized shape inference for Linear and broadcasting binary ops, checked against shapes built
// the other way round: pick the result first, then derive inputs that must produce it. Seeds are
// fixed and printed so a failure replays.
#include <doctest/doctest.h>

#include <random>

#include "tests/ir/infer_test_util.h"

using namespace qrt::ir;
using namespace qrt::ir::testing;

namespace {

constexpr uint64_t kFirstSeed = 20240601;
constexpr int kTrials = 300;

// Dims that exercise the edge cases: 1 (broadcasts), small primes, a non-power-of-two.
int64_t random_dim(std::mt19937_64& rng) {
  static constexpr int64_t kDims[] = {1, 2, 3, 5, 7, 11, 13, 24, 97};
  return kDims[rng() % std::size(kDims)];
}

bool coin(std::mt19937_64& rng, int percent) {
  return static_cast<int>(rng() % 100) < percent;
}

// Replaces each ? with a concrete size the runtime could supply: `partner` (the other operand's dim
// at that position) when it is static and not 1, else a random dim.
Shape concretize(const Shape& s, const Shape& partner, std::mt19937_64& rng) {
  Shape out = s;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != kDynamicDim) continue;
    const size_t from_end = s.size() - 1 - i;
    const int64_t p = from_end < partner.size() ? partner[partner.size() - 1 - from_end] : 1;
    out[i] = (p != kDynamicDim && p != 1) ? p : random_dim(rng);
  }
  return out;
}

}  // namespace

TEST_CASE("binary broadcasting on random shapes") {
  MESSAGE("seeds " << kFirstSeed << " .. " << kFirstSeed + kTrials - 1);
  for (int trial = 0; trial < kTrials; ++trial) {
    const uint64_t seed = kFirstSeed + static_cast<uint64_t>(trial);
    std::mt19937_64 rng(seed);
    INFO("seed " << seed);
    // The result first, then two operands that broadcast to it: each operand keeps a suffix of the
    // result's dims, and may replace any dim by 1 unless the other operand already did.
    const size_t rank = rng() % 5;
    Shape expected(rank);
    for (auto& d : expected) d = random_dim(rng);
    Shape a(expected.end() - static_cast<std::ptrdiff_t>(rng() % (rank + 1)), expected.end());
    Shape b(expected.end() - static_cast<std::ptrdiff_t>(rng() % (rank + 1)), expected.end());
    (coin(rng, 50) ? a : b) = expected;  // one operand has the result's rank
    for (size_t i = 0; i < rank; ++i) {
      const size_t from_end = rank - 1 - i;
      const bool in_a = from_end < a.size(), in_b = from_end < b.size();
      int64_t* da = in_a ? &a[a.size() - 1 - from_end] : nullptr;
      int64_t* db = in_b ? &b[b.size() - 1 - from_end] : nullptr;
      // Only one side may shrink to 1, and only while the other side still carries the dim.
      if (da && db && coin(rng, 30)) *(coin(rng, 50) ? da : db) = 1;
    }
    const OpKind ops[] = {OpKind::kAdd, OpKind::kSub, OpKind::kMul};
    const OpKind op = ops[rng() % 3];
    INFO(std::string(op_name(op)) << " " << shape_to_string(a) << " with " << shape_to_string(b));
    CHECK(shape_of(infer_one(op, NoAttrs{}, {f32(a), f32(b)})) == expected);

    // Marking dims dynamic must keep the result sound: every static dim it reports equals the
    // result for any concrete sizes the runtime may supply.
    Shape da = a, db = b;
    for (auto& d : da)
      if (coin(rng, 25)) d = kDynamicDim;
    for (auto& d : db)
      if (coin(rng, 25)) d = kDynamicDim;
    INFO("dynamic: " << shape_to_string(da) << " with " << shape_to_string(db));
    const Shape dynamic = shape_of(infer_one(op, NoAttrs{}, {f32(da), f32(db)}));
    const Shape ca = concretize(da, db, rng);
    const Shape cb = concretize(db, ca, rng);
    INFO("concrete: " << shape_to_string(ca) << " with " << shape_to_string(cb));
    const Shape concrete = shape_of(infer_one(op, NoAttrs{}, {f32(ca), f32(cb)}));
    REQUIRE(dynamic.size() == concrete.size());
    for (size_t i = 0; i < dynamic.size(); ++i)
      CHECK((dynamic[i] == kDynamicDim || dynamic[i] == concrete[i]));

    // Two static dims that differ and are not 1 cannot broadcast.
    if (rank > 0 && a.size() == rank && b.size() == rank) {
      const size_t i = rng() % rank;
      Shape bad = b;
      bad[i] = a[i] + 1 == 1 ? 2 : a[i] + 1;
      if (a[i] != 1) check_fails(infer_one(op, NoAttrs{}, {f32(a), f32(bad)}), "do not broadcast");
    }
  }
}

TEST_CASE("Linear on random shapes") {
  MESSAGE("seeds " << kFirstSeed + 7919 << " .. " << kFirstSeed + 7919 + kTrials - 1);
  for (int trial = 0; trial < kTrials; ++trial) {
    const uint64_t seed = kFirstSeed + 7919 + static_cast<uint64_t>(trial);
    std::mt19937_64 rng(seed);
    INFO("seed " << seed);
    const int64_t k = random_dim(rng), n = random_dim(rng);
    Shape x(1 + rng() % 4);
    for (auto& d : x) d = coin(rng, 20) ? kDynamicDim : random_dim(rng);
    x.back() = k;
    Shape expected = x;  // y [..., N]: the leading dims pass through, dynamic ones included
    expected.back() = n;
    const bool with_bias = coin(rng, 50);
    std::vector<std::optional<InputSpec>> in = {f32(x), f32({n, k})};
    if (with_bias) in.push_back(f32({n}));
    INFO("x " << shape_to_string(x) << " weight [" << n << ", " << k << "] bias " << with_bias);
    CHECK(shape_of(infer_one(OpKind::kLinear, LinearAttrs{}, in)) == expected);

    in[1] = f32({n, k + 1});  // in_features mismatch
    check_fails(infer_one(OpKind::kLinear, LinearAttrs{}, in), "in_features K");
  }
}
