// Reshape: same row-major values under the new shape; 0 copies a dim, -1 is inferred.
#include <doctest/doctest.h>

#include "tests/ops/op_harness.h"

namespace qrt::testing {
namespace {

OpCase reshape_case(const HostTensor& x, std::vector<int64_t> target, ir::Shape y) {
  return {ir::OpKind::kReshape, ir::ReshapeAttrs{std::move(target)}, {x}, {std::move(y)}};
}

TEST_CASE("Reshape: hand-computed [2, 3] -> [3, 2]") {
  auto got = run_cpu_op(reshape_case(HostTensor{{2, 3}, {1, 2, 3, 4, 5, 6}}, {3, 2}, {3, 2}));
  REQUIRE(got.is_ok());
  CHECK((*got)[0] == std::vector<float>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("Reshape: random tensors keep their values under 0 / -1 targets") {
  struct Case {
    ir::Shape x;
    std::vector<int64_t> target;
    ir::Shape y;
  };
  const Case cases[] = {{{4, 3, 2}, {0, -1}, {4, 6}},     {{7, 1, 3}, {-1}, {21}},
                        {{5}, {1, 5, 1}, {1, 5, 1}},      {{2, 3, 5}, {0, 0, 5, 1}, {2, 3, 5, 1}},
                        {{13}, {13, -1}, {13, 1}},        {{1}, {}, {}},
                        {{3, 0, 2}, {0, 0, 2}, {3, 0, 2}}};
  uint64_t seed = 1200;
  for (const Case& c : cases) {
    ++seed;
    INFO("seed " << seed << " " << ir::shape_to_string(c.x) << " -> " << ir::shape_to_string(c.y));
    const HostTensor x = random_tensor(c.x, seed);
    auto got = run_cpu_op(reshape_case(x, c.target, c.y));
    REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
    CHECK((*got)[0] == x.data);
  }
}

TEST_CASE("Reshape: an impossible target names the node") {
  OpCase c = reshape_case(random_tensor({3, 4}, 1), {5, -1}, {5, 2});
  c.node_name = "reshape_bad";
  auto r = run_cpu_op(c);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("reshape_bad") != std::string::npos);
  // A target that resolves but disagrees with the declared output shape.
  CHECK_FALSE(run_cpu_op(reshape_case(random_tensor({3, 4}, 2), {0, -1}, {4, 3})).is_ok());
}

}  // namespace
}  // namespace qrt::testing
