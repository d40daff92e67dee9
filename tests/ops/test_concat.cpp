// Concat along each axis against an index-arithmetic reference.
#include <doctest/doctest.h>

#include "tests/ops/op_harness.h"

namespace qrt::testing {
namespace {

OpCase concat_case(const std::vector<HostTensor>& xs, int64_t axis, ir::Shape y) {
  OpCase c{ir::OpKind::kConcat, ir::ConcatAttrs{axis}, {}, {std::move(y)}};
  for (const HostTensor& x : xs) c.inputs.push_back(x);
  return c;
}

TEST_CASE("Concat: hand-computed") {
  auto flat = run_cpu_op(concat_case({HostTensor{{2}, {1, 2}}, HostTensor{{1}, {3}}}, 0, {3}));
  REQUIRE(flat.is_ok());
  CHECK((*flat)[0] == std::vector<float>{1, 2, 3});
  // [[1, 2], [3, 4]] ++ [[5], [6]] along axis -1 -> [[1, 2, 5], [3, 4, 6]].
  auto cols = run_cpu_op(
      concat_case({HostTensor{{2, 2}, {1, 2, 3, 4}}, HostTensor{{2, 1}, {5, 6}}}, -1, {2, 3}));
  REQUIRE(cols.is_ok());
  CHECK((*cols)[0] == std::vector<float>{1, 2, 5, 3, 4, 6});
}

TEST_CASE("Concat: random inputs on each axis") {
  const ir::Shape base = {3, 2, 5};
  const std::vector<std::vector<int64_t>> extents = {{1}, {2, 1}, {3, 7, 1}, {2, 0, 5}};
  uint64_t seed = 2100;
  for (int64_t axis = -3; axis < 3; ++axis) {
    const int a = static_cast<int>(axis < 0 ? axis + 3 : axis);
    for (const auto& ext : extents) {
      ++seed;
      INFO("seed " << seed << " axis " << axis << " extents " << ir::shape_to_string(ext));
      std::vector<HostTensor> xs;
      ir::Shape y = base;
      y[a] = 0;
      for (std::size_t k = 0; k < ext.size(); ++k) {
        ir::Shape s = base;
        s[a] = ext[k];
        xs.push_back(random_tensor(s, seed * 10 + k));
        y[a] += ext[k];
      }
      auto got = run_cpu_op(concat_case(xs, axis, y));
      REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
      const std::vector<int64_t> ys = strides_of(y);
      std::vector<float> ref(ir::numel(y));
      for (int64_t i = 0; i < ir::numel(y); ++i) {
        int64_t idx[3] = {i / ys[0] % y[0], i / ys[1] % y[1], i / ys[2] % y[2]};
        std::size_t k = 0;  // the input holding idx[a], then idx[a] relative to it
        while (idx[a] >= xs[k].shape[a]) idx[a] -= xs[k++].shape[a];
        const std::vector<int64_t> xst = strides_of(xs[k].shape);
        ref[i] = xs[k].data[idx[0] * xst[0] + idx[1] * xst[1] + idx[2] * xst[2]];
      }
      CHECK((*got)[0] == ref);
    }
  }
}

TEST_CASE("Concat: mismatched dims name the node") {
  OpCase c = concat_case({random_tensor({2, 3}, 1), random_tensor({3, 3}, 2)}, 1, {2, 6});
  c.node_name = "concat_bad";
  auto r = run_cpu_op(c);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("concat_bad") != std::string::npos);
}

}  // namespace
}  // namespace qrt::testing
