// The shared "rewrite weighted nodes" step of the precision passes (see weight_rewrite.h).
#include "ir/passes/weight_rewrite.h"

#include <map>
#include <set>
#include <utility>

#include "ir/half.h"
#include "ir/op_schema.h"
#include "ir/quant_formats.h"
#include "ir/quantize.h"

namespace qrt::ir::passes {

namespace {

constexpr size_t kLstmFirstWeight = 3;     // x, h0, c0 come first
constexpr size_t kLstmInputsPerLayer = 4;  // w_ih, w_hh, b_ih, b_hh

// How a weight is stored for a precision (ir/precision.h): the three int8 precisions share one
// encoding, int8 symmetric per output channel.
enum class Encoding { kF32, kF16, kBF16, kInt8, kNF4 };

Encoding encoding_for(Precision p) {
  switch (p) {
    case Precision::kFP16:
      return Encoding::kF16;
    case Precision::kBF16:
      return Encoding::kBF16;
    case Precision::kW8A16:
    case Precision::kInt8Dynamic:
    case Precision::kInt8Static:
      return Encoding::kInt8;
    case Precision::kNF4:
      return Encoding::kNF4;
    case Precision::kFP32:
      break;
  }
  return Encoding::kF32;
}

const Value& value_at(const Graph& graph, ValueId id) {
  return graph.values[static_cast<size_t>(id)];
}

// "node 'fc' (Linear), weight 'fc.weight' [16, 7]" — the context of every encoding error.
std::string weight_context(const Node& node, const Value& w) {
  return "node '" + node.name + "' (" + op_name(node.op) + "), weight '" + w.name + "' " +
         shape_to_string(w.shape);
}

Result<ConstantData> half_bytes(std::span<const float> src, uint16_t (*convert)(float)) {
  std::vector<uint16_t> bits(src.size());
  for (size_t i = 0; i < src.size(); ++i) bits[i] = convert(src[i]);
  return ConstantData::copy_of(bits.data(), bits.size() * sizeof(uint16_t));
}

uint16_t to_f16(float v) {
  return float_to_f16_bits(v);
}
uint16_t to_bf16(float v) {
  return float_to_bf16_bits(v);
}

// The f32 weight `w` (a verified [N, K] constant) stored as `encoding`; same name and shape.
Result<Value> encode_weight(const Node& node, const Value& w, Encoding encoding,
                            const WeightEncodingOptions& options) {
  const std::string context = weight_context(node, w);
  const FloatTensorView view{w.data->as<float>(), w.shape};
  Value out;
  out.name = w.name;
  out.shape = w.shape;
  switch (encoding) {
    case Encoding::kF32:
      return w;
    case Encoding::kF16:
    case Encoding::kBF16: {
      const bool f16 = encoding == Encoding::kF16;
      Result<ConstantData> bytes = half_bytes(view.data, f16 ? to_f16 : to_bf16);
      if (!bytes.is_ok()) return bytes.status().with_context(context);
      out.dtype = f16 ? DType::kF16 : DType::kBF16;
      out.data = std::move(bytes).value();
      return out;
    }
    case Encoding::kInt8: {
      Result<Int8Weight> q = quantize_weight_per_channel(view);
      if (!q.is_ok()) return q.status().with_context(context);
      Result<ConstantData> bytes = ConstantData::copy_of(q->codes.data(), q->codes.size());
      if (!bytes.is_ok()) return bytes.status().with_context(context);
      out.dtype = DType::kI8;
      out.data = std::move(bytes).value();
      out.quant = std::move(q->params);
      return out;
    }
    case Encoding::kNF4: {
      // NF4 blocks run along K (a row of W [N, K]), so the block size must divide K.
      const int64_t k = w.shape.back();
      if (k % options.nf4_block_size != 0)
        return invalid_argument(
            context + ": nf4 block size " + std::to_string(options.nf4_block_size) +
            " does not divide K = " + std::to_string(k) + " (the row length of [N, K])");
      Result<Nf4Weight> q = quantize_nf4(view, options.nf4_block_size, options.nf4_double_quant);
      if (!q.is_ok()) return q.status().with_context(context);
      Result<ConstantData> bytes = ConstantData::copy_of(q->packed.data(), q->packed.size());
      if (!bytes.is_ok()) return bytes.status().with_context(context);
      out.dtype = DType::kNF4;
      out.data = std::move(bytes).value();
      out.quant = std::move(q->params);
      return out;
    }
  }
  return internal_error(context + ": unknown weight encoding");
}

// `base`, or `base.2`, `base.3`, ... : the first name no value of `graph` has.
std::string unique_value_name(const Graph& graph, const std::string& base) {
  std::string name = base;
  for (int n = 2; graph.find_value(name) != kNoValue; ++n) name = base + "." + std::to_string(n);
  return name;
}

Status check_keep_precision(Precision p) {
  if (p == Precision::kFP32 || p == Precision::kFP16 || p == Precision::kBF16 ||
      p == Precision::kW8A16)
    return Status::ok();
  return invalid_argument(std::string("precision policy: keep_precision '") + precision_name(p) +
                          "' is not one of fp32, fp16, bf16, w8a16 (the precisions a kept layer "
                          "can run in without further options)");
}

}  // namespace

std::vector<size_t> weight_slots(const Node& node) {
  if (node.op == OpKind::kLinear) return {1};
  if (node.op != OpKind::kLSTM || node.inputs.size() < kLstmFirstWeight) return {};
  std::vector<size_t> slots;
  for (size_t base = kLstmFirstWeight; base + 1 < node.inputs.size(); base += kLstmInputsPerLayer) {
    slots.push_back(base);
    slots.push_back(base + 1);
  }
  return slots;
}

std::string unconvertible_weight_reason(const Graph& graph, const Node& node) {
  for (size_t slot : weight_slots(node)) {
    if (slot >= node.inputs.size() || node.inputs[slot] == kNoValue) continue;
    const ValueId id = node.inputs[slot];
    if (id < 0 || static_cast<size_t>(id) >= graph.values.size()) continue;  // verify reports it
    const Value& w = value_at(graph, id);
    if (!w.is_constant()) return "weight '" + w.name + "' is not a constant";
    if (w.dtype != DType::kF32)
      return "weight '" + w.name + "' is already " + dtype_name(w.dtype) + ", not f32";
  }
  return "";
}

Result<Graph> rewrite_weighted_nodes(const Graph& graph, Precision target,
                                     const PrecisionPolicy& policy,
                                     const WeightEncodingOptions& options) {
  QRT_RETURN_IF_ERROR(verify(graph).with_context("input graph"));
  QRT_RETURN_IF_ERROR(check_keep_precision(policy.keep_precision));
  const std::vector<LayerDecision> decisions = decide_precisions(graph, target, policy);

  // Which encodings each weight is asked for (and by which node first, for error messages), and
  // whether it is also used as something other than a convertible weight.
  std::vector<int> decision_of(graph.nodes.size(), -1);
  for (size_t d = 0; d < decisions.size(); ++d)
    if (unconvertible_weight_reason(graph, graph.nodes[static_cast<size_t>(decisions[d].node)])
            .empty())
      decision_of[static_cast<size_t>(decisions[d].node)] = static_cast<int>(d);
  std::map<ValueId, std::map<Encoding, int>> requests;  // weight -> encoding -> first node
  std::vector<bool> other_use(graph.values.size(), false);
  for (ValueId id : graph.outputs) other_use[static_cast<size_t>(id)] = true;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    std::set<size_t> slots;
    if (decision_of[n] >= 0) {
      const auto w = weight_slots(node);
      slots.insert(w.begin(), w.end());
    }
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const ValueId id = node.inputs[i];
      if (id == kNoValue) continue;
      if (slots.count(i) == 0) {
        other_use[static_cast<size_t>(id)] = true;
        continue;
      }
      const Encoding e = encoding_for(decisions[static_cast<size_t>(decision_of[n])].precision);
      requests[id].try_emplace(e, static_cast<int>(n));
    }
  }

  // Encode each (weight, encoding) once: in place of the original when possible, else as a new
  // value beside it.
  Graph out = graph;  // shares every weight's bytes (ConstantData is reference counted)
  std::map<std::pair<ValueId, Encoding>, ValueId> encoded_id;
  for (const auto& [id, encodings] : requests) {
    // The original f32 value may be replaced when nothing else still needs it as f32.
    bool replace_original =
        encodings.count(Encoding::kF32) == 0 && !other_use[static_cast<size_t>(id)];
    for (const auto& [encoding, first_node] : encodings) {
      if (encoding == Encoding::kF32) {
        encoded_id[{id, encoding}] = id;
        continue;
      }
      QRT_ASSIGN_OR_RETURN(Value encoded,
                           encode_weight(graph.nodes[static_cast<size_t>(first_node)],
                                         value_at(graph, id), encoding, options));
      if (replace_original) {
        replace_original = false;  // later encodings of the same weight become new values
        out.values[static_cast<size_t>(id)] = std::move(encoded);
        encoded_id[{id, encoding}] = id;
      } else {
        encoded.name = unique_value_name(out, encoded.name + "." + dtype_name(encoded.dtype));
        out.values.push_back(std::move(encoded));
        encoded_id[{id, encoding}] = static_cast<ValueId>(out.values.size() - 1);
      }
    }
  }

  for (const LayerDecision& d : decisions) {
    Node& node = out.nodes[static_cast<size_t>(d.node)];
    if (decision_of[static_cast<size_t>(d.node)] < 0) {
      // Unconvertible weights: the node runs as before; only the reason is new.
      node.precision.reason = d.reason;
      continue;
    }
    const Encoding e = encoding_for(d.precision);
    for (size_t slot : weight_slots(node))
      if (node.inputs[slot] != kNoValue) node.inputs[slot] = encoded_id.at({node.inputs[slot], e});
    node.precision = PrecisionRecord{precision_name(d.precision), d.reason, 0.0f};
  }
  return out;
}

Result<Graph> finish_pass(Graph graph, const char* pass_name) {
  if (Status s = verify(graph); !s.is_ok())
    return internal_error(std::string(pass_name) +
                          " produced a graph that fails verify: " + s.message());
  return graph;
}

Graph keep_values(Graph graph, const std::vector<bool>& keep) {
  std::vector<ValueId> new_id(graph.values.size(), kNoValue);
  std::vector<Value> kept;
  for (size_t i = 0; i < graph.values.size(); ++i) {
    if (!keep[i]) continue;
    new_id[i] = static_cast<ValueId>(kept.size());
    kept.push_back(std::move(graph.values[i]));
  }
  graph.values = std::move(kept);
  auto remap = [&](ValueId& id) {
    if (id != kNoValue) id = new_id[static_cast<size_t>(id)];
  };
  for (ValueId& id : graph.inputs) remap(id);
  for (ValueId& id : graph.outputs) remap(id);
  for (Node& node : graph.nodes) {
    for (ValueId& id : node.inputs) remap(id);
    for (ValueId& id : node.outputs) remap(id);
  }
  return graph;
}

}  // namespace qrt::ir::passes
