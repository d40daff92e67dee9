// Small valid graphs that the graph/verify tests corrupt one field at a time (tests/ir only).
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "frontends/builder.h"
#include "ir/graph.h"

namespace qrt::ir::testing {

// Distinct, non-zero weights so byte-size and data checks cannot pass on all-zero buffers.
inline std::vector<float> ramp(size_t n, float start = 0.25f) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = start + 0.5f * static_cast<float>(i);
  return v;
}

// x [?, 8] -> fc (Linear, w [4, 8], b [4]) -> act (Relu) -> output "y".
inline Graph small_mlp() {
  frontends::GraphBuilder b;
  const ValueId x = b.input("x", {kDynamicDim, 8});
  const ValueId w = b.constant("w", {4, 8}, ramp(32));
  const ValueId bias = b.constant("b", {4}, ramp(4, -1.0f));
  const ValueId fc = b.linear("fc", x, w, bias);
  b.output(b.unary("act", OpKind::kRelu, fc), "y");
  Result<Graph> g = b.build();
  INFO(g.status().to_string());
  REQUIRE(g.is_ok());
  return std::move(g).value();
}

// Verification fails with a message containing each fragment.
inline void check_rejected(const Graph& g, const std::vector<std::string>& fragments) {
  const Status s = verify(g);
  REQUIRE_FALSE(s.is_ok());
  INFO("message: " << s.message());
  for (const std::string& f : fragments) CHECK(s.message().find(f) != std::string::npos);
}

}  // namespace qrt::ir::testing
