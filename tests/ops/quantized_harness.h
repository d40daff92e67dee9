// Runs one quantized CPU kernel on a one-node graph through the kernel interface (registry entry ->
// create -> prepare -> run), as op_harness.h does for f32 ops, but with constant weights of any
// dtype carrying QuantParams, activations that may carry calibrated parameters, and the node's
// PrecisionRecord. Outputs and workspace are NaN-poisoned and followed by canary words.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/status.h"

namespace qrt::testing {

struct QInput {
  ir::Value value;          // name, dtype, shape, quant; `data` set for a constant
  std::vector<float> data;  // values of a non-constant f32 input
  bool absent = false;      // an absent optional input
};

QInput f32_input(const std::string& name, const ir::Shape& shape, std::vector<float> data,
                 std::optional<ir::QuantParams> quant = std::nullopt);
QInput f32_constant(const std::string& name, const ir::Shape& shape,
                    const std::vector<float>& data);
QInput raw_constant(const std::string& name, ir::DType dtype, const ir::Shape& shape,
                    const void* bytes, std::size_t size, std::optional<ir::QuantParams> quant);
QInput absent_input();

struct QCase {
  ir::OpKind op = ir::OpKind::kLinear;
  ir::Attrs attrs;
  ir::PrecisionRecord precision;
  std::vector<QInput> inputs;
  std::vector<ir::Shape> output_shapes;
};

struct QRun {
  std::string kernel;  // name of the registry entry that ran
  std::vector<std::vector<float>> outputs;
};

ir::Graph quantized_graph(const QCase& c);
// The name of the CPU registry entry that supports the node, or "" when none does.
std::string selected_kernel(const QCase& c);
Result<QRun> run_quantized_op(const QCase& c);

}  // namespace qrt::testing
