// Transpose: output dim i is input dim perm[i]; every 3-D permutation against index arithmetic.
#include <doctest/doctest.h>

#include <algorithm>

#include "tests/ops/op_harness.h"

namespace qrt::testing {
namespace {

OpCase transpose_case(const HostTensor& x, std::vector<int64_t> perm) {
  ir::Shape y(perm.size());
  for (std::size_t i = 0; i < perm.size(); ++i) y[i] = x.shape[perm[i]];
  return {ir::OpKind::kTranspose, ir::TransposeAttrs{std::move(perm)}, {x}, {y}};
}

// y[j] = x[i] with i[perm[k]] = j[k].
std::vector<float> transpose_reference(const HostTensor& x, const std::vector<int64_t>& perm) {
  ir::Shape y_shape(perm.size());
  for (std::size_t k = 0; k < perm.size(); ++k) y_shape[k] = x.shape[perm[k]];
  const std::vector<int64_t> xs = strides_of(x.shape), ys = strides_of(y_shape);
  std::vector<float> y(x.data.size());
  for (int64_t j = 0; j < static_cast<int64_t>(y.size()); ++j) {
    int64_t src = 0;
    for (std::size_t k = 0; k < perm.size(); ++k) src += (j / ys[k] % y_shape[k]) * xs[perm[k]];
    y[j] = x.data[src];
  }
  return y;
}

TEST_CASE("Transpose: hand-computed 2-D") {
  auto got = run_cpu_op(transpose_case(HostTensor{{2, 3}, {1, 2, 3, 4, 5, 6}}, {1, 0}));
  REQUIRE(got.is_ok());
  CHECK((*got)[0] == std::vector<float>{1, 4, 2, 5, 3, 6});
}

TEST_CASE("Transpose: every 3-D permutation and a few other ranks") {
  uint64_t seed = 1500;
  std::vector<int64_t> perm = {0, 1, 2};
  do {
    for (const ir::Shape& shape : {ir::Shape{2, 3, 5}, ir::Shape{1, 7, 1}, ir::Shape{3, 1, 4}}) {
      ++seed;
      INFO("seed " << seed << " shape " << ir::shape_to_string(shape) << " perm "
                   << ir::shape_to_string(perm));
      const HostTensor x = random_tensor(shape, seed);
      auto got = run_cpu_op(transpose_case(x, perm));
      REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
      CHECK((*got)[0] == transpose_reference(x, perm));
    }
  } while (std::next_permutation(perm.begin(), perm.end()));

  const std::pair<ir::Shape, std::vector<int64_t>> others[] = {{{7, 1}, {1, 0}},
                                                               {{2, 3, 1, 5}, {3, 1, 0, 2}},
                                                               {{11}, {0}},
                                                               {{2, 3, 2, 1, 3}, {4, 2, 0, 3, 1}}};
  for (const auto& [shape, p] : others) {
    ++seed;
    INFO("seed " << seed << " shape " << ir::shape_to_string(shape) << " perm "
                 << ir::shape_to_string(p));
    const HostTensor x = random_tensor(shape, seed);
    auto got = run_cpu_op(transpose_case(x, p));
    REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
    CHECK((*got)[0] == transpose_reference(x, p));
  }
}

TEST_CASE("Transpose: a repeated axis names the node") {
  OpCase c = transpose_case(random_tensor({2, 3, 4}, 1), {0, 1, 2});
  std::get<ir::TransposeAttrs>(c.attrs).perm = {0, 0, 1};
  c.output_shapes = {{2, 2, 3}};
  c.node_name = "transpose_bad";
  auto r = run_cpu_op(c);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("transpose_bad") != std::string::npos);
}

}  // namespace
}  // namespace qrt::testing
