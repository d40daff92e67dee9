// Hand-built graphs for the format tests (no frontend needed), and a field-by-field comparison.
#pragma once

#include <cstdint>

#include "ir/graph.h"

namespace qrt::testing {

// A valid graph with a dynamic batch that uses every op in ops.def (FakeQuant in both modes),
// constants of every dtype (f32, f16, bf16, i8 with per-channel scales, u8 affine, i32, nf4 with
// double-quantized NF4Block params, a scalar and an empty tensor), a quantization annotation on an
// activation, metadata and precision records. Weight bytes come from `seed`.
ir::Graph every_op_graph(uint64_t seed);

// The smallest useful model: x [?, 4] -> Linear(w [3, 4], b [3]) -> Relu -> y.
ir::Graph tiny_linear_graph(uint64_t seed);

// doctest CHECKs that `a` and `b` agree field by field (values, weights' bytes, quant params,
// nodes, attributes, precision records, inputs, outputs, metadata).
void check_graphs_equal(const ir::Graph& a, const ir::Graph& b);

}  // namespace qrt::testing
