// The quantized CPU reference kernels for Linear and LSTM, one kernel per precision of
// ir/precision.h (fp16, bf16, w8a16, int8-dynamic, int8-static, nf4). A kernel runs a node whose
// PrecisionRecord names its precision and whose tensors have that precision's graph form; its
// `supports` accepts exactly those nodes, so a strict session names any other.
#pragma once

#include <memory>

#include "ir/graph.h"
#include "ir/precision.h"
#include "runtime/kernel.h"

namespace qrt::ops::quantized {

bool supports_quantized_linear(ir::Precision precision, const ir::Graph& graph,
                               const ir::Node& node);
std::unique_ptr<runtime::Kernel> make_quantized_linear_kernel(ir::Precision precision);

bool supports_quantized_lstm(ir::Precision precision, const ir::Graph& graph, const ir::Node& node);
std::unique_ptr<runtime::Kernel> make_quantized_lstm_kernel(ir::Precision precision);

}  // namespace qrt::ops::quantized
