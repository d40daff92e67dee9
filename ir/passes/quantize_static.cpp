// Static int8, W8A8 with calibrated activation scales (design notes, section 4): int8 per-channel
// weights, and the float input value of every int8-static node (x of Linear, x of LSTM) annotated
// with per-tensor QuantParams computed from the calibration range of that value. The LSTM hidden
// state needs no entry: it lies in (-1, 1) and the kernel uses scale 1/127. Then, unless disabled,
// int8 codes are kept between consecutive int8-static Linears (static_int8_chain.cpp).
#include <map>

#include "ir/passes/passes.h"
#include "ir/passes/weight_rewrite.h"
#include "ir/quantize.h"

namespace qrt::ir::passes {

namespace {

constexpr int kActivationBits = 8;

// Per-tensor parameters for the observed range [min, max], through the same primitives that
// quantize tensors (ir/quantize.h), applied to the two endpoints: symmetric gives
// s = max(|min|, |max|) / 127, zero point 0; affine widens the range to include 0 and maps it onto
// the uint8 range [0, 255] (s = (max - min) / 255, z = round(-min / s)). A range of only zeros
// gets s = 1.
Result<QuantParams> activation_params(const std::string& value_name, const TensorRange& range,
                                      bool symmetric) {
  const std::string context = "quantize_static: calibration range of '" + value_name + "' [" +
                              std::to_string(range.min) + ", " + std::to_string(range.max) + "]";
  if (!(range.min <= range.max))  // also catches NaN
    return invalid_argument(context + ": min must not exceed max");
  const float endpoints[2] = {range.min, range.max};
  const FloatTensorView view{endpoints, {2}};
  const QuantizeSpec spec{kActivationBits, Granularity::kPerTensor, 0, 0};
  Result<QuantizedTensor> q = symmetric ? quantize_symmetric(view, spec)
                                        : quantize_affine(view, spec, /*unsigned_range=*/true);
  if (!q.is_ok()) return q.status().with_context(context);
  QuantParams params = std::move(q->params);
  params.scheme = symmetric ? QuantScheme::kSymmetricPerTensor : QuantScheme::kAffinePerTensor;
  params.axis = 0;
  if (symmetric) params.zero_points.clear();
  return params;
}

}  // namespace

Result<Graph> quantize_static(const Graph& graph, const CalibrationTable& table,
                              const StaticOptions& options) {
  QRT_ASSIGN_OR_RETURN(Graph out,
                       rewrite_weighted_nodes(graph, Precision::kInt8Static, options.policy));

  // One set of parameters per value: a value feeding several int8-static nodes is quantized once.
  const std::string static_name = precision_name(Precision::kInt8Static);
  std::map<ValueId, QuantParams> annotated;
  for (const Node& node : out.nodes) {
    if (node.precision.precision != static_name || node.inputs.empty()) continue;
    const ValueId x = node.inputs[0];
    if (x == kNoValue || annotated.count(x) != 0) continue;
    const std::string& name = out.values[static_cast<size_t>(x)].name;
    const auto range = table.ranges.find(name);
    if (range == table.ranges.end())
      return invalid_argument("quantize_static: node '" + node.name + "' (" + op_name(node.op) +
                              ") input '" + name + "' has no range in the calibration table (" +
                              std::to_string(table.ranges.size()) + " ranges, method '" +
                              table.method + "'); calibrate with data that reaches it");
    QRT_ASSIGN_OR_RETURN(QuantParams params,
                         activation_params(name, range->second, options.symmetric));
    annotated.emplace(x, std::move(params));
  }
  for (auto& [x, params] : annotated) out.values[static_cast<size_t>(x)].quant = std::move(params);
  QRT_ASSIGN_OR_RETURN(Graph annotated_graph, finish_pass(std::move(out), "quantize_static"));
  if (!options.int8_between_ops) return annotated_graph;
  return keep_int8_between_static_ops(annotated_graph);
}

}  // namespace qrt::ir::passes
