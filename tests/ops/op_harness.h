// Runs one CPU kernel on a one-node graph through the kernel interface only: registry entry ->
// create -> prepare -> run, on buffers owned by the test (no Session). Outputs and workspace are
// poisoned with NaN before the run and followed by canary words, so an element the kernel does not
// write, or a write past the end, fails the test; inputs are checked to be left unchanged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/status.h"

namespace qrt::testing {

struct HostTensor {
  ir::Shape shape;
  std::vector<float> data;  // row-major, numel(shape) values
};

struct OpCase {
  ir::OpKind op = ir::OpKind::kRelu;
  ir::Attrs attrs;
  std::vector<std::optional<HostTensor>> inputs;  // std::nullopt: an absent optional input
  std::vector<ir::Shape> output_shapes;
  std::string node_name = "op_under_test";
};

// The graph holding just the case's node (node 0), its inputs as graph inputs (value i is input i
// when present) and its outputs as graph outputs; all values f32.
ir::Graph one_node_graph(const OpCase& c);

// Output values in node output order, or the Status of lookup / prepare / run.
Result<std::vector<std::vector<float>>> run_cpu_op(const OpCase& c);

// Row-major strides of `shape` (in elements), for the tests' naive index arithmetic.
std::vector<int64_t> strides_of(const ir::Shape& shape);

// Random values for `shape` (uniform in [lo, hi)) and a HostTensor holding them.
HostTensor random_tensor(const ir::Shape& shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f);

}  // namespace qrt::testing
