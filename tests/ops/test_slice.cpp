// Slice: Python x[start:end:step] along one axis, with negative indices, clamping and squeeze.
#include <doctest/doctest.h>

#include <climits>
#include <numeric>

#include "tests/ops/op_harness.h"
#include "tests/support/random.h"

namespace qrt::testing {
namespace {

OpCase slice_case(const HostTensor& x, ir::SliceAttrs attrs, ir::Shape y) {
  return {ir::OpKind::kSlice, attrs, {x}, {std::move(y)}};
}

// The indices Python's range(*slice(start, end, step).indices(dim)) visits (CPython's
// PySlice_AdjustIndices for step > 0).
std::vector<int64_t> python_indices(int64_t start, int64_t end, int64_t step, int64_t dim) {
  auto adjust = [dim](int64_t i) {
    if (i < 0) return std::max<int64_t>(i + dim, 0);
    return std::min(i, dim);
  };
  std::vector<int64_t> out;
  for (int64_t i = adjust(start); i < adjust(end); i += step) out.push_back(i);
  return out;
}

const HostTensor kZeroToNine{{10}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}};

std::vector<float> run_slice_1d(int64_t start, int64_t end, int64_t step, int64_t count) {
  auto got =
      run_cpu_op(slice_case(kZeroToNine, ir::SliceAttrs{0, start, end, step, false}, {count}));
  REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
  return (*got)[0];
}

TEST_CASE("Slice: hand-computed Python slices of 0..9") {
  CHECK(run_slice_1d(-3, INT64_MAX, 1, 3) == std::vector<float>{7, 8, 9});            // x[-3:]
  CHECK(run_slice_1d(1, 8, 2, 4) == std::vector<float>{1, 3, 5, 7});                  // x[1:8:2]
  CHECK(run_slice_1d(0, -1, 1, 9) == std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8});  // x[:-1]
  CHECK(run_slice_1d(-100, 100, 3, 4) == std::vector<float>{0, 3, 6, 9});  // clamped, x[::3]
  CHECK(run_slice_1d(7, 3, 1, 0).empty());                                 // x[7:3]
  CHECK(run_slice_1d(-2, -1, 5, 1) == std::vector<float>{8});              // x[-2:-1:5]
}

TEST_CASE("Slice: squeeze takes one time step, x[:, -1]") {
  // x [2, 3, 2] = 0..11; x[:, -1] = rows (4, 5) and (10, 11).
  HostTensor x{{2, 3, 2}, std::vector<float>(12)};
  std::iota(x.data.begin(), x.data.end(), 0.0f);
  auto got = run_cpu_op(slice_case(x, ir::SliceAttrs{1, -1, INT64_MAX, 1, true}, {2, 2}));
  REQUIRE(got.is_ok());
  CHECK((*got)[0] == std::vector<float>{4, 5, 10, 11});
}

TEST_CASE("Slice: random bounds on every axis against Python index lists") {
  const ir::Shape shape = {2, 7, 5};
  const std::vector<int64_t> st = strides_of(shape);
  uint64_t seed = 1800;
  for (int64_t axis = -3; axis < 3; ++axis) {
    for (int rep = 0; rep < 6; ++rep) {
      ++seed;
      const int a = static_cast<int>(axis < 0 ? axis + 3 : axis);
      const int64_t dim = shape[a];
      const int64_t start = random_int(seed, -dim - 2, dim + 2);
      const int64_t end = random_int(seed + 1, -dim - 2, dim + 2);
      const int64_t step = random_int(seed + 2, 1, 3);
      const std::vector<int64_t> idx = python_indices(start, end, step, dim);
      INFO("seed " << seed << " axis " << axis << " [" << start << ":" << end << ":" << step
                   << "]");
      ir::Shape y = shape;
      y[a] = static_cast<int64_t>(idx.size());
      const HostTensor x = random_tensor(shape, seed);
      auto got = run_cpu_op(slice_case(x, ir::SliceAttrs{axis, start, end, step, false}, y));
      REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
      std::vector<float> ref;
      for (int64_t i0 = 0; i0 < y[0]; ++i0)
        for (int64_t i1 = 0; i1 < y[1]; ++i1)
          for (int64_t i2 = 0; i2 < y[2]; ++i2) {
            int64_t src[3] = {i0, i1, i2};
            src[a] = idx[src[a]];
            ref.push_back(x.data[src[0] * st[0] + src[1] * st[1] + src[2] * st[2]]);
          }
      CHECK((*got)[0] == ref);
    }
  }
}

TEST_CASE("Slice: bad attributes name the node") {
  OpCase two = slice_case(kZeroToNine, ir::SliceAttrs{0, 2, 4, 1, true}, {});
  two.node_name = "slice_squeeze_two";
  auto r = run_cpu_op(two);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("slice_squeeze_two") != std::string::npos);
  CHECK_FALSE(
      run_cpu_op(slice_case(kZeroToNine, ir::SliceAttrs{0, 0, 10, 0, false}, {10})).is_ok());
  CHECK_FALSE(
      run_cpu_op(slice_case(kZeroToNine, ir::SliceAttrs{1, 0, 10, 1, false}, {10})).is_ok());
}

}  // namespace
}  // namespace qrt::testing
