// convert_qat: a trained QAT graph -> the deployable static int8 (or NF4) graph with the learned
// parameters (design notes, section 8; declared in passes.h).
//
// 1. Read every FakeQuant: weight ones (x is a constant) give the learned per-channel weight
//    scales, activation ones the learned per-tensor scale / zero point of the value they read.
// 2. Remove them: readers of a FakeQuant's output read its input again; constants nothing reads
//    any more (the scales) are dropped. LSTMs lose hidden_fake_quant: the int8-static kernel
//    rounds the hidden state itself.
// 3. Run the ordinary pass (quantize_static / quantize_nf4) on that float graph with a policy that
//    converts exactly the fake-quantized layers, then replace what it computed from the float
//    values by the learned parameters: activation QuantParams, and int8 weight codes
//    q = clamp(round(w / s), -127, 127) with the learned s (the codes the FakeQuant simulated).
// 4. Layers kept unfaked go to the precision recorded at insertion (downcast / quantize_weights),
//    and int8 chains are formed last (keep_int8_between_static_ops), from the learned parameters.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "ir/op_schema.h"
#include "ir/passes/passes.h"
#include "ir/passes/qat_support.h"
#include "ir/passes/weight_rewrite.h"

namespace qrt::ir::passes {

namespace {

constexpr int32_t kInt8WeightMax = 127;  // int8 weights are symmetric: codes in [-127, 127]

struct FakeQuantInfo {
  const Node* node = nullptr;
  ValueId source = kNoValue;  // x
  FakeQuantAttrs attrs;
  std::vector<float> scales;
  std::vector<float> zero_points;
};

std::string label(const Node& node) {
  return "convert_qat: " + node_label(node);
}

Result<std::vector<float>> constant_floats(const Graph& g, const Node& node, size_t slot,
                                           const char* what) {
  const Value& v = g.values[static_cast<size_t>(node.inputs[slot])];
  if (!v.is_constant() || v.dtype != DType::kF32)
    return invalid_argument(label(node) + what + " '" + v.name +
                            "' is not an f32 constant; the learned values must be stored in "
                            "the graph");
  const auto data = v.data->as<float>();
  return std::vector<float>(data.begin(), data.end());
}

// The FakeQuant nodes of `g`, by output value id.
Result<std::map<ValueId, FakeQuantInfo>> read_fake_quants(const Graph& g) {
  std::map<ValueId, FakeQuantInfo> out;
  for (const Node& node : g.nodes) {
    if (node.op != OpKind::kFakeQuant) continue;
    FakeQuantInfo info;
    info.node = &node;
    info.source = node.inputs[0];
    info.attrs = std::get<FakeQuantAttrs>(node.attrs);
    if (info.attrs.mode == FakeQuantMode::kInteger) {
      QRT_ASSIGN_OR_RETURN(info.scales, constant_floats(g, node, 1, "scale"));
      if (node.inputs.size() > 2 && node.inputs[2] != kNoValue) {
        QRT_ASSIGN_OR_RETURN(info.zero_points, constant_floats(g, node, 2, "zero_point"));
      }
    }
    out.emplace(node.outputs[0], std::move(info));
  }
  return out;
}

// `g` without its FakeQuant nodes (readers read their inputs), without the LSTMs' hidden-state
// fake quantization and without the values nothing refers to any more; value ids are renumbered,
// names kept.
Graph remove_fake_quants(const Graph& g) {
  std::map<ValueId, ValueId> bypass;
  for (const Node& node : g.nodes)
    if (node.op == OpKind::kFakeQuant) bypass[node.outputs[0]] = node.inputs[0];
  // A FakeQuant may read another FakeQuant's output: follow the chain to a real value.
  auto resolve = [&](ValueId id) {
    for (auto it = bypass.find(id); it != bypass.end(); it = bypass.find(id)) id = it->second;
    return id;
  };
  Graph out = g;
  out.nodes.clear();
  for (const Node& node : g.nodes) {
    if (node.op == OpKind::kFakeQuant) continue;
    Node n = node;
    for (ValueId& id : n.inputs)
      if (id != kNoValue) id = resolve(id);
    if (auto* lstm = std::get_if<LstmAttrs>(&n.attrs)) lstm->hidden_fake_quant = false;
    out.nodes.push_back(std::move(n));
  }
  for (ValueId& id : out.outputs) id = resolve(id);

  std::vector<bool> used(g.values.size(), false);
  auto mark = [&](ValueId id) {
    if (id != kNoValue) used[static_cast<size_t>(id)] = true;
  };
  for (ValueId id : out.inputs) mark(id);
  for (ValueId id : out.outputs) mark(id);
  for (const Node& node : out.nodes) {
    for (ValueId id : node.inputs) mark(id);
    for (ValueId id : node.outputs) mark(id);
  }
  return keep_values(std::move(out), used);
}

// How one weighted node of the QAT graph converts.
struct LayerPlan {
  const Node* node = nullptr;
  bool faked = false;
  Precision precision = Precision::kFP32;
  std::vector<std::pair<size_t, const FakeQuantInfo*>> weights;  // slot -> its FakeQuant
  const FakeQuantInfo* input = nullptr;                          // FakeQuant of x (int8)
};

const FakeQuantInfo* fake_quant_of(const std::map<ValueId, FakeQuantInfo>& fqs, ValueId id) {
  const auto it = fqs.find(id);
  return it == fqs.end() ? nullptr : &it->second;
}

Status check_int8_weight(const LayerPlan& plan, const FakeQuantInfo& fq) {
  const FakeQuantAttrs& a = fq.attrs;
  if (a.mode != FakeQuantMode::kInteger || a.bits != 8 || !a.symmetric || !a.per_channel ||
      (a.axis != 0 && a.axis != -2))
    return invalid_argument(label(*plan.node) + "weight FakeQuant '" + fq.node->name +
                            "' is not 8-bit symmetric per output channel (axis 0), the only int8 "
                            "weight form the static int8 kernels run");
  return Status::ok();
}

Status check_int8_activation(const LayerPlan& plan, const FakeQuantInfo& fq) {
  const FakeQuantAttrs& a = fq.attrs;
  if (a.mode != FakeQuantMode::kInteger || a.bits != 8 || a.per_channel ||
      (!a.symmetric && !a.unsigned_range))
    return invalid_argument(label(*plan.node) + "input FakeQuant '" + fq.node->name +
                            "' is not 8-bit per tensor, symmetric or affine in the uint8 range: "
                            "the static int8 kernels cannot run it");
  return Status::ok();
}

Result<std::vector<LayerPlan>> plan_layers(const Graph& g,
                                           const std::map<ValueId, FakeQuantInfo>& fqs, bool nf4) {
  std::vector<LayerPlan> plans;
  const Precision quantized = nf4 ? Precision::kNF4 : Precision::kInt8Static;
  for (const Node& node : g.nodes) {
    if (!is_weighted(node)) continue;
    LayerPlan plan;
    plan.node = &node;
    size_t faked = 0, present = 0;
    for (size_t slot : weight_slots(node)) {
      if (node.inputs[slot] == kNoValue) continue;
      ++present;
      if (const FakeQuantInfo* fq = fake_quant_of(fqs, node.inputs[slot])) {
        plan.weights.emplace_back(slot, fq);
        ++faked;
      }
    }
    plan.faked = faked > 0;
    if (plan.faked && faked != present)
      return invalid_argument(label(node) + std::to_string(faked) + " of its " +
                              std::to_string(present) +
                              " weights go through a FakeQuant; convert_qat needs all or none");
    const auto recorded = g.metadata.find(qat::precision_key(node.name));
    if (plan.faked) {
      plan.precision = quantized;
      if (recorded != g.metadata.end() && recorded->second != precision_name(quantized))
        return invalid_argument(label(node) +
                                "has fake-quantized weights but is recorded to "
                                "convert to '" +
                                recorded->second + "'");
    } else if (recorded != g.metadata.end()) {
      const auto p = precision_from_name(recorded->second);
      if (!p || *p == Precision::kInt8Static || *p == Precision::kNF4 ||
          *p == Precision::kInt8Dynamic)
        return invalid_argument(label(node) + "is recorded to convert to '" + recorded->second +
                                "' but its weights have no FakeQuant");
      plan.precision = *p;
    }
    for (const auto& [slot, fq] : plan.weights) {
      const bool is_nf4 = fq->attrs.mode == FakeQuantMode::kNF4;
      if (is_nf4 != nf4)
        return invalid_argument(label(node) + "weight FakeQuant '" + fq->node->name + "' is " +
                                (is_nf4 ? "NF4" : "integer") + " in a " + qat::mode_name(nf4) +
                                " QAT graph");
      if (!nf4) QRT_RETURN_IF_ERROR(check_int8_weight(plan, *fq));
    }
    if (plan.faked && !nf4) {
      plan.input = fake_quant_of(fqs, node.inputs[0]);
      if (plan.input == nullptr)
        return invalid_argument(label(node) + "has fake-quantized weights but its input '" +
                                g.values[static_cast<size_t>(node.inputs[0])].name +
                                "' has no FakeQuant: the learned activation scale is missing");
      QRT_RETURN_IF_ERROR(check_int8_activation(plan, *plan.input));
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

// A policy that converts exactly the faked layers (every other weighted node stays as it is).
PrecisionPolicy exact_policy(const std::vector<LayerPlan>& plans,
                             const std::set<std::string>& convert) {
  PrecisionPolicy policy;
  policy.keep_first = false;
  policy.keep_last = false;
  policy.keep_precision = Precision::kFP32;
  for (const LayerPlan& plan : plans)
    if (!convert.count(plan.node->name)) policy.keep_patterns.push_back(plan.node->name);
  return policy;
}

QuantParams learned_activation_params(const FakeQuantInfo& fq) {
  QuantParams p;
  p.scheme = fq.attrs.symmetric ? QuantScheme::kSymmetricPerTensor : QuantScheme::kAffinePerTensor;
  p.scales = {fq.scales[0]};
  if (!fq.attrs.symmetric)
    p.zero_points = {fake_quant_zero_point(fq.zero_points[0], fake_quant_range(fq.attrs))};
  return p;
}

// The calibration range that reproduces the learned parameters as closely as a range can; the
// exact learned values overwrite quantize_static's afterwards.
TensorRange range_of(const FakeQuantInfo& fq) {
  const FakeQuantRange r = fake_quant_range(fq.attrs);
  const float s = fq.scales[0];
  const int32_t z = fq.attrs.symmetric ? 0 : fake_quant_zero_point(fq.zero_points[0], r);
  return {s * static_cast<float>(r.qmin - z), s * static_cast<float>(r.qmax - z)};
}

// The int8 weight the FakeQuant simulated: q = clamp(round(w / s[n]), -127, 127) per row n.
Result<Value> learned_int8_weight(const Node& node, const Value& w, const FakeQuantInfo& fq) {
  if (w.shape.size() != 2 || !w.is_constant() || w.dtype != DType::kF32)
    return invalid_argument(label(node) + "weight '" + w.name + "' is not an f32 [N, K] constant");
  const int64_t rows = w.shape[0], cols = w.shape[1];
  if (fq.scales.size() != static_cast<size_t>(rows))
    return invalid_argument(label(node) + "weight FakeQuant '" + fq.node->name + "' has " +
                            std::to_string(fq.scales.size()) + " scales for " +
                            std::to_string(rows) + " rows");
  const auto data = w.data->as<float>();
  std::vector<int8_t> codes(data.size());
  const FakeQuantRange range{-kInt8WeightMax, kInt8WeightMax};
  for (int64_t n = 0; n < rows; ++n) {
    const float s = fq.scales[static_cast<size_t>(n)];
    if (!std::isfinite(s) || !(s > 0.0f))
      return invalid_argument(label(node) + "weight FakeQuant '" + fq.node->name + "' scale #" +
                              std::to_string(n) + " is " + std::to_string(s) +
                              ", must be finite and > 0");
    for (int64_t k = 0; k < cols; ++k) {
      const float v = data[static_cast<size_t>(n * cols + k)];
      if (!std::isfinite(v))
        return invalid_argument(label(node) + "weight '" + w.name + "' has a non-finite value");
      const float q = std::clamp(std::nearbyint(v / s), static_cast<float>(range.qmin),
                                 static_cast<float>(range.qmax));
      codes[static_cast<size_t>(n * cols + k)] = static_cast<int8_t>(q);
    }
  }
  Value out;
  out.name = w.name;
  out.dtype = DType::kI8;
  out.shape = w.shape;
  QRT_ASSIGN_OR_RETURN(out.data, ConstantData::copy_of(codes.data(), codes.size()));
  QuantParams p;
  p.scheme = QuantScheme::kSymmetricPerChannel;
  p.axis = 0;
  p.scales = fq.scales;
  out.quant = std::move(p);
  return out;
}

// Every FakeQuant must be one convert_qat can fold: a faked layer's weight or input.
Status check_all_fake_quants_used(const std::map<ValueId, FakeQuantInfo>& fqs,
                                  const std::vector<LayerPlan>& plans) {
  std::set<const FakeQuantInfo*> used;
  for (const LayerPlan& plan : plans) {
    for (const auto& w : plan.weights) used.insert(w.second);
    if (plan.input != nullptr) used.insert(plan.input);
  }
  for (const auto& [id, fq] : fqs)
    if (!used.count(&fq))
      return invalid_argument(label(*fq.node) +
                              "is neither on the weights nor on the input of a fake-quantized "
                              "Linear/LSTM; the deployed graph has nothing to put in its place");
  return Status::ok();
}

Result<Graph> convert_int8(const Graph& qat, const Graph& plain,
                           const std::vector<LayerPlan>& plans, const PrecisionPolicy& policy) {
  CalibrationTable table;
  table.method = "qat";
  std::map<std::string, const FakeQuantInfo*> activations;  // by value name
  std::optional<bool> symmetric;
  for (const LayerPlan& plan : plans) {
    if (plan.input == nullptr) continue;
    const std::string& name = qat.values[static_cast<size_t>(plan.input->source)].name;
    if (symmetric && *symmetric != plan.input->attrs.symmetric)
      return invalid_argument(label(*plan.input->node) +
                              "mixes symmetric and affine activation FakeQuants; the static int8 "
                              "graph uses one kind");
    symmetric = plan.input->attrs.symmetric;
    activations[name] = plan.input;
    table.ranges[name] = range_of(*plan.input);
  }
  StaticOptions options;
  options.policy = policy;
  options.symmetric = symmetric.value_or(true);
  options.int8_between_ops = false;  // chains are formed from the learned parameters, at the end
  Result<Graph> out_or = quantize_static(plain, table, options);
  if (!out_or.is_ok()) return out_or.status().with_context("convert_qat");
  Graph out = std::move(out_or).value();
  for (const auto& [name, fq] : activations)
    out.values[static_cast<size_t>(out.find_value(name))].quant = learned_activation_params(*fq);
  for (const LayerPlan& plan : plans) {
    if (!plan.faked) continue;
    const Node& node = out.nodes[static_cast<size_t>(out.find_node(plan.node->name))];
    for (const auto& [slot, fq] : plan.weights) {
      const ValueId id = node.inputs[slot];
      QRT_ASSIGN_OR_RETURN(
          Value w, learned_int8_weight(node, qat.values[static_cast<size_t>(fq->source)], *fq));
      w.name = out.values[static_cast<size_t>(id)].name;
      out.values[static_cast<size_t>(id)] = std::move(w);
    }
  }
  return out;
}

Result<Graph> convert_nf4(const Graph& plain, const std::vector<LayerPlan>& plans,
                          const PrecisionPolicy& policy) {
  Nf4Options options;
  options.policy = policy;
  const FakeQuantInfo* first = nullptr;
  for (const LayerPlan& plan : plans)
    for (const auto& w : plan.weights) {
      if (first == nullptr) {
        first = w.second;
        options.block_size = first->attrs.block_size;
        options.double_quant = first->attrs.double_quant;
      } else if (w.second->attrs.block_size != options.block_size ||
                 w.second->attrs.double_quant != options.double_quant) {
        return invalid_argument(label(*w.second->node) + "block size / double quantization (" +
                                std::to_string(w.second->attrs.block_size) + ") differs from '" +
                                first->node->name + "' (" + std::to_string(options.block_size) +
                                "); the NF4 graph uses one setting");
      }
    }
  Result<Graph> out = quantize_nf4(plain, options);
  if (!out.is_ok()) return out.status().with_context("convert_qat");
  return out;
}

}  // namespace

Result<Graph> convert_qat(const Graph& qat_graph, const ConvertQatOptions& options) {
  QRT_RETURN_IF_ERROR(verify(qat_graph).with_context("convert_qat: input graph"));
  QRT_ASSIGN_OR_RETURN(const auto fqs, read_fake_quants(qat_graph));
  bool nf4 = false;
  if (const auto mode = qat_graph.metadata.find(qat::kModeKey); mode != qat_graph.metadata.end()) {
    if (mode->second != qat::mode_name(false) && mode->second != qat::mode_name(true))
      return invalid_argument("convert_qat: metadata " + std::string(qat::kModeKey) + " is '" +
                              mode->second + "', expected int8 or nf4");
    nf4 = mode->second == qat::mode_name(true);
  } else {
    for (const auto& [id, fq] : fqs) nf4 = nf4 || fq.attrs.mode == FakeQuantMode::kNF4;
  }
  QRT_ASSIGN_OR_RETURN(const std::vector<LayerPlan> plans, plan_layers(qat_graph, fqs, nf4));
  QRT_RETURN_IF_ERROR(check_all_fake_quants_used(fqs, plans));

  const Graph plain = remove_fake_quants(qat_graph);
  std::set<std::string> faked;
  for (const LayerPlan& plan : plans)
    if (plan.faked) faked.insert(plan.node->name);
  const PrecisionPolicy policy = exact_policy(plans, faked);
  QRT_ASSIGN_OR_RETURN(Graph out, nf4 ? convert_nf4(plain, plans, policy)
                                      : convert_int8(qat_graph, plain, plans, policy));

  // Layers kept unfaked go to their recorded precision.
  for (const Precision kept : {Precision::kFP16, Precision::kBF16, Precision::kW8A16}) {
    std::set<std::string> group;
    for (const LayerPlan& plan : plans)
      if (!plan.faked && plan.precision == kept) group.insert(plan.node->name);
    if (group.empty()) continue;
    const PrecisionPolicy group_policy = exact_policy(plans, group);
    Result<Graph> next = kept == Precision::kW8A16 ? quantize_weights(out, group_policy)
                                                   : downcast(out, kept, group_policy);
    if (!next.is_ok()) return next.status().with_context("convert_qat");
    out = std::move(next).value();
  }
  // The reasons: learned for the faked layers, the insertion-time decision for the others.
  for (const LayerPlan& plan : plans) {
    Node& node = out.nodes[static_cast<size_t>(out.find_node(plan.node->name))];
    node.precision.reason = plan.faked ? std::string("quantization-aware trained (learned ") +
                                             (nf4 ? "weights" : "scales") + ")"
                                       : plan.node->precision.reason;
  }
  for (auto it = out.metadata.begin(); it != out.metadata.end();)
    it = it->first.rfind("qat.", 0) == 0 ? out.metadata.erase(it) : std::next(it);
  if (!nf4 && options.int8_between_ops) {
    Result<Graph> chained = keep_int8_between_static_ops(out);
    if (!chained.is_ok()) return chained.status().with_context("convert_qat");
    out = std::move(chained).value();
  }
  return finish_pass(std::move(out), "convert_qat");
}

}  // namespace qrt::ir::passes
