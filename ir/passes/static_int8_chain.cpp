// Static int8 chains (ir/precision.h, docs/quantization.md §4): the values between consecutive
// int8-static Linears become int8 codes, so the producer requantizes in its epilogue and the
// consumer skips quantizing its input.
//
// Relu and Reshape may sit between them: with per-tensor parameters (s, z), relu(s·(q − z)) =
// s·(max(q, z) − z) and a reshape moves codes unchanged, so the whole region from the producer's
// output to the consumers' inputs shares one set of parameters: the consumers' calibrated ones.
// Quantizing the producer's output with them and applying relu to the codes gives exactly the codes
// the consumer would compute from the float relu output: round(max(y, 0)/s) + z = max(round(y/s) +
// z, z) for z the code of 0.
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "ir/passes/passes.h"
#include "ir/passes/weight_rewrite.h"

namespace qrt::ir::passes {

namespace {

struct Use {
  int node;
  size_t slot;
};

bool is_int8_static_linear(const Node& node) {
  return node.op == OpKind::kLinear &&
         node.precision.precision == precision_name(Precision::kInt8Static);
}

bool per_tensor(const std::optional<QuantParams>& q) {
  return q && q->scales.size() == 1 &&
         (q->scheme == QuantScheme::kSymmetricPerTensor ||
          (q->scheme == QuantScheme::kAffinePerTensor && q->zero_points.size() == 1));
}

// The values from `start` to the x inputs of the int8-static Linears reading it (through Relu /
// Reshape), and the consumers' shared parameters; nullopt when some reader is anything else, a
// value is a graph output or unused, or the consumers' parameters differ.
struct Region {
  std::vector<ValueId> values;
  QuantParams params;
  std::vector<std::string> consumers;
};

std::optional<Region> chain_region(const Graph& g, ValueId start,
                                   const std::vector<std::vector<Use>>& uses,
                                   const std::set<ValueId>& graph_outputs) {
  Region region;
  std::optional<QuantParams> params;
  std::vector<ValueId> pending{start};
  while (!pending.empty()) {
    const ValueId v = pending.back();
    pending.pop_back();
    region.values.push_back(v);
    const auto& readers = uses[static_cast<size_t>(v)];
    if (graph_outputs.count(v) != 0 || readers.empty()) return std::nullopt;
    for (const Use& use : readers) {
      const Node& reader = g.nodes[static_cast<size_t>(use.node)];
      if ((reader.op == OpKind::kRelu || reader.op == OpKind::kReshape) && use.slot == 0) {
        pending.push_back(reader.outputs[0]);
      } else if (is_int8_static_linear(reader) && use.slot == 0) {
        const std::optional<QuantParams>& q = g.values[static_cast<size_t>(v)].quant;
        if (!per_tensor(q) || (params && *params != *q)) return std::nullopt;
        params = q;
        region.consumers.push_back(reader.name);
      } else {
        return std::nullopt;
      }
    }
  }
  if (!params) return std::nullopt;
  region.params = *params;
  return region;
}

}  // namespace

Result<Graph> keep_int8_between_static_ops(const Graph& graph) {
  QRT_RETURN_IF_ERROR(verify(graph).with_context("keep_int8_between_static_ops: input graph"));
  Graph out = graph;
  std::vector<std::vector<Use>> uses(out.values.size());
  for (size_t n = 0; n < out.nodes.size(); ++n)
    for (size_t i = 0; i < out.nodes[n].inputs.size(); ++i)
      if (const ValueId id = out.nodes[n].inputs[i]; id != kNoValue)
        uses[static_cast<size_t>(id)].push_back({static_cast<int>(n), i});
  const std::set<ValueId> graph_outputs(out.outputs.begin(), out.outputs.end());

  for (Node& producer : out.nodes) {
    if (!is_int8_static_linear(producer) || producer.outputs.size() != 1) continue;
    const ValueId y = producer.outputs[0];
    if (out.values[static_cast<size_t>(y)].dtype != DType::kF32) continue;  // already int8
    const std::optional<Region> region = chain_region(out, y, uses, graph_outputs);
    if (!region) continue;
    const DType codes =
        region->params.scheme == QuantScheme::kSymmetricPerTensor ? DType::kI8 : DType::kU8;
    for (ValueId v : region->values) {
      Value& value = out.values[static_cast<size_t>(v)];
      value.dtype = codes;
      value.quant = region->params;
    }
    std::string readers;
    for (const std::string& name : region->consumers)
      readers += (readers.empty() ? "'" : ", '") + name + "'";
    producer.precision.reason +=
        std::string("; output requantized to ") + dtype_name(codes) + " for " + readers;
  }
  return finish_pass(std::move(out), "keep_int8_between_static_ops");
}

}  // namespace qrt::ir::passes
