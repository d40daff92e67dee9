// Add / Sub / Mul with NumPy broadcasting against hand values and an index-arithmetic reference.
#include <doctest/doctest.h>

#include <algorithm>

#include "tests/ops/op_harness.h"

namespace qrt::testing {
namespace {

OpCase binary_case(ir::OpKind op, const HostTensor& a, const HostTensor& b, ir::Shape y) {
  return {op, ir::NoAttrs{}, {a, b}, {std::move(y)}};
}

std::vector<float> run_binary(ir::OpKind op, const HostTensor& a, const HostTensor& b,
                              const ir::Shape& y) {
  auto got = run_cpu_op(binary_case(op, a, b, y));
  REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
  return (*got)[0];
}

// The flat index into a tensor of shape `s` (right-aligned against the output's rank) that the
// output multi-index `idx` reads under broadcasting: size-1 dims always read index 0.
int64_t broadcast_source(const std::vector<int64_t>& idx, const ir::Shape& s) {
  const std::size_t pad = idx.size() - s.size();
  const std::vector<int64_t> st = strides_of(s);
  int64_t flat = 0;
  for (std::size_t d = 0; d < s.size(); ++d) flat += (s[d] == 1 ? 0 : idx[pad + d]) * st[d];
  return flat;
}

TEST_CASE("Binary: hand-computed broadcasting") {
  const HostTensor m{{2, 3}, {1, 2, 3, 4, 5, 6}};
  CHECK(run_binary(ir::OpKind::kAdd, m, HostTensor{{3}, {10, 20, 30}}, {2, 3}) ==
        std::vector<float>{11, 22, 33, 14, 25, 36});
  // Column minus row: [2, 1] - [1, 3] -> [2, 3] outer difference.
  CHECK(run_binary(ir::OpKind::kSub, HostTensor{{2, 1}, {100, 200}}, HostTensor{{1, 3}, {1, 2, 3}},
                   {2, 3}) == std::vector<float>{99, 98, 97, 199, 198, 197});
  // A 0-d scalar.
  CHECK(run_binary(ir::OpKind::kMul, HostTensor{{}, {-2}}, m, {2, 3}) ==
        std::vector<float>{-2, -4, -6, -8, -10, -12});
  // [B, 1, C] against [B, T, C]: the same row is subtracted at every t.
  CHECK(run_binary(ir::OpKind::kSub, HostTensor{{1, 2, 2}, {5, 6, 7, 8}},
                   HostTensor{{1, 1, 2}, {1, 2}}, {1, 2, 2}) == std::vector<float>{4, 4, 6, 6});
}

TEST_CASE("Binary: random broadcast combinations against an index-arithmetic reference") {
  struct Pair {
    ir::Shape a, b, y;
  };
  const Pair pairs[] = {
      {{2, 7, 3}, {2, 1, 3}, {2, 7, 3}},  // [B,T,C] - [B,1,C]
      {{5}, {3, 2, 5}, {3, 2, 5}},        // [C] + [B,T,C]
      {{3, 2, 5}, {}, {3, 2, 5}},         // scalar
      {{1}, {5, 7}, {5, 7}},
      {{4, 1, 3}, {5, 1}, {4, 5, 3}},  // both sides stretched
      {{2, 3, 5, 7}, {3, 1, 7}, {2, 3, 5, 7}},
      {{1, 1, 1}, {1}, {1, 1, 1}},
      {{13, 11}, {13, 11}, {13, 11}},                    // no broadcasting
      {{3, 1, 1, 2, 1}, {1, 4, 1, 3}, {3, 1, 4, 2, 3}},  // rank 5
      {{7, 1}, {1, 0}, {7, 0}},                          // empty result
  };
  uint64_t seed = 900;
  for (const Pair& p : pairs) {
    for (ir::OpKind op : {ir::OpKind::kAdd, ir::OpKind::kSub, ir::OpKind::kMul}) {
      ++seed;
      INFO("seed " << seed << " " << ir::op_name(op) << " " << ir::shape_to_string(p.a) << " and "
                   << ir::shape_to_string(p.b));
      const HostTensor a = random_tensor(p.a, seed), b = random_tensor(p.b, seed + 50);
      const auto y = run_binary(op, a, b, p.y);
      const std::vector<int64_t> ys = strides_of(p.y);
      for (int64_t i = 0; i < ir::numel(p.y); ++i) {
        std::vector<int64_t> idx(p.y.size());
        for (std::size_t d = 0; d < p.y.size(); ++d) idx[d] = i / ys[d] % p.y[d];
        const double va = a.data[broadcast_source(idx, p.a)],
                     vb = b.data[broadcast_source(idx, p.b)];
        // One IEEE operation on floats, rounded once: double then float is exact rounding.
        const double r = op == ir::OpKind::kAdd   ? va + vb
                         : op == ir::OpKind::kSub ? va - vb
                                                  : va * vb;
        REQUIRE_MESSAGE(y[i] == static_cast<float>(r), "element " << i);
      }
    }
  }
}

TEST_CASE("Binary: shapes that do not broadcast name the node") {
  OpCase c = binary_case(ir::OpKind::kAdd, random_tensor({3}, 1), random_tensor({4}, 2), {4});
  c.node_name = "add_mismatch";
  auto r = run_cpu_op(c);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("add_mismatch") != std::string::npos);
}

}  // namespace
}  // namespace qrt::testing
