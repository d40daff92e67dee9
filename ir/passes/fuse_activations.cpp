// Linear + activation fusion (TFLite's fused_activation_function): a Linear whose f32 output feeds
// only an activation takes that activation into LinearAttrs and writes the activation's output
// itself, so a backend applies it in the GEMM epilogue instead of a second kernel reading and
// writing the whole tensor again. The activation means exactly the standalone op
// (ir/op_kind.h FusedActivation), so fused and unfused graphs compute the same values.
//
// Not fused: an output that is a graph output or read by anything else (it must stay
// observable), and int8 codes of a static int8 chain (ir/precision.h), where the Relu between two
// int8-static Linears already runs on the codes.
#include <set>
#include <string>
#include <vector>

#include "ir/passes/passes.h"
#include "ir/passes/weight_rewrite.h"
#include "ir/precision_forms.h"

namespace qrt::ir::passes {

Result<Graph> fuse_activations(const Graph& graph) {
  QRT_RETURN_IF_ERROR(verify(graph).with_context("fuse_activations: input graph"));
  std::vector<std::vector<size_t>> readers(graph.values.size());
  for (size_t n = 0; n < graph.nodes.size(); ++n)
    for (const ValueId id : graph.nodes[n].inputs)
      if (id != kNoValue) readers[static_cast<size_t>(id)].push_back(n);
  const std::set<ValueId> graph_outputs(graph.outputs.begin(), graph.outputs.end());

  Graph out = graph;
  std::vector<bool> fused_away(graph.nodes.size(), false);
  std::vector<bool> keep(graph.values.size(), true);
  for (Node& linear : out.nodes) {
    auto* attrs = std::get_if<LinearAttrs>(&linear.attrs);
    if (linear.op != OpKind::kLinear || attrs == nullptr ||
        attrs->activation != FusedActivation::kNone || linear.outputs.size() != 1)
      continue;
    const ValueId y = linear.outputs[0];
    const auto& y_readers = readers[static_cast<size_t>(y)];
    if (!is_plain_f32(graph.values[static_cast<size_t>(y)]) || y_readers.size() != 1 ||
        graph_outputs.count(y) != 0)
      continue;
    const Node& activation = graph.nodes[y_readers[0]];
    const std::optional<FusedActivation> fused =
        fused_activation_of(activation.op, activation.attrs);
    if (!fused) continue;
    attrs->activation = *fused;
    linear.outputs[0] = activation.outputs[0];
    fused_away[y_readers[0]] = true;
    keep[static_cast<size_t>(y)] = false;
  }
  std::vector<Node> nodes;
  for (size_t n = 0; n < out.nodes.size(); ++n)
    if (!fused_away[n]) nodes.push_back(std::move(out.nodes[n]));
  out.nodes = std::move(nodes);
  return finish_pass(keep_values(std::move(out), keep), "fuse_activations");
}

std::string fused_linear_names(const Graph& graph) {
  std::string names;
  for (const Node& n : graph.nodes) {
    const auto* linear = std::get_if<LinearAttrs>(&n.attrs);
    if (linear == nullptr || linear->activation == FusedActivation::kNone) continue;
    if (!names.empty()) names += ", ";
    names += n.name + "+" + fused_activation_name(linear->activation);
  }
  return names;
}

}  // namespace qrt::ir::passes
