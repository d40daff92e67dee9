// insert_fake_quant: a float graph -> its QAT graph (design notes, section 8; declared in
// passes.h). The deployed form is decided by the ordinary passes (quantize_static /
// quantize_nf4 with the same policy), so the QAT graph simulates exactly the values those passes
// would quantize, with their initial parameters.
#include <map>
#include <set>
#include <utility>

#include "ir/op_schema.h"
#include "ir/passes/passes.h"
#include "ir/passes/qat_support.h"
#include "ir/passes/weight_rewrite.h"
#include "ir/quantize.h"

namespace qrt::ir::passes {

namespace {

constexpr int64_t kBits = 8;
constexpr int64_t kWeightChannelAxis = 0;  // Linear/LSTM weights [N, K]: one scale per output row

const std::string kInt8Static = precision_name(Precision::kInt8Static);
const std::string kNf4 = precision_name(Precision::kNF4);

// A FakeQuant still to be inserted in front of some readers of `source`.
struct PlannedFakeQuant {
  FakeQuantAttrs attrs;
  std::vector<float> scales;       // kInteger
  std::vector<float> zero_points;  // affine only
};

// Builds the QAT graph: copies `graph`, then for every planned value adds the constants, the
// FakeQuant node (just before its first reader) and rewires the chosen reader slots.
class QatGraphBuilder {
 public:
  explicit QatGraphBuilder(const Graph& graph) : in_(graph), out_(graph) { out_.nodes.clear(); }

  // Readers of `source` at (node index, slot) read the fake-quantized value instead.
  void plan(ValueId source, PlannedFakeQuant fq) { planned_.emplace(source, std::move(fq)); }
  void reroute(int node, size_t slot) { reroutes_[node].push_back(slot); }
  // The LSTM `node` rounds its hidden-state inputs as the int8-static kernel does.
  void fake_quant_lstm_hidden(int node) { lstm_hidden_.insert(node); }

  Result<Graph> build(const std::vector<PrecisionRecord>& records) {
    for (size_t n = 0; n < in_.nodes.size(); ++n) {
      Node node = in_.nodes[n];
      node.precision = records[n];
      if (lstm_hidden_.count(static_cast<int>(n)))
        std::get<LstmAttrs>(node.attrs).hidden_fake_quant = true;
      for (size_t slot : reroutes_[static_cast<int>(n)]) {
        QRT_ASSIGN_OR_RETURN(const ValueId faked, faked_value(node.inputs[slot]));
        node.inputs[slot] = faked;
      }
      out_.nodes.push_back(std::move(node));
    }
    return std::move(out_);
  }

 private:
  ValueId add_constant(const std::string& base, const std::vector<float>& data) {
    Value v;
    v.name = qat::unique_name(out_, base);
    v.dtype = DType::kF32;
    v.shape = {static_cast<int64_t>(data.size())};
    v.data = ConstantData::copy_of(data.data(), data.size() * sizeof(float)).value();
    out_.values.push_back(std::move(v));
    return static_cast<ValueId>(out_.values.size() - 1);
  }

  // The output of the FakeQuant of `source`, adding it (and its constants) on first use.
  Result<ValueId> faked_value(ValueId source) {
    if (auto it = faked_.find(source); it != faked_.end()) return it->second;
    const auto plan = planned_.find(source);
    if (plan == planned_.end())
      return internal_error("insert_fake_quant: no FakeQuant planned for value " +
                            std::to_string(source));
    const Value& x = in_.values[static_cast<size_t>(source)];
    Node fq;
    fq.op = OpKind::kFakeQuant;
    fq.attrs = plan->second.attrs;
    fq.name = qat::unique_name(out_, x.name + ".fake_quant");
    fq.inputs = {source};
    if (plan->second.attrs.mode == FakeQuantMode::kInteger) {
      fq.inputs.push_back(add_constant(x.name + ".qat_scale", plan->second.scales));
      if (!plan->second.attrs.symmetric)
        fq.inputs.push_back(add_constant(x.name + ".qat_zero_point", plan->second.zero_points));
    }
    Value y;
    y.name = fq.name;
    y.dtype = x.dtype;
    y.shape = x.shape;
    out_.values.push_back(std::move(y));
    const auto y_id = static_cast<ValueId>(out_.values.size() - 1);
    fq.outputs = {y_id};
    fq.precision.reason = "quantization-aware training";
    out_.nodes.push_back(std::move(fq));
    faked_.emplace(source, y_id);
    return y_id;
  }

  const Graph& in_;
  Graph out_;
  std::map<ValueId, PlannedFakeQuant> planned_;
  std::map<int, std::vector<size_t>> reroutes_;
  std::set<int> lstm_hidden_;
  std::map<ValueId, ValueId> faked_;
};

// Per-channel symmetric int8 scales of the f32 weight `id`, the initial weight FakeQuant.
Result<PlannedFakeQuant> weight_fake_quant(const Graph& graph, const Node& node, ValueId id,
                                           bool learnable) {
  const Value& w = graph.values[static_cast<size_t>(id)];
  Result<Int8Weight> q = quantize_weight_per_channel({w.data->as<float>(), w.shape});
  if (!q.is_ok())
    return q.status().with_context("insert_fake_quant: node '" + node.name + "' weight '" + w.name +
                                   "'");
  PlannedFakeQuant fq;
  fq.attrs.bits = kBits;
  fq.attrs.per_channel = true;
  fq.attrs.axis = kWeightChannelAxis;
  fq.attrs.learnable_scale = learnable;
  fq.scales = std::move(q->params.scales);
  return fq;
}

// The per-tensor FakeQuant of an activation with the parameters quantize_static computed.
Result<PlannedFakeQuant> activation_fake_quant(const Node& node, const Value& x, bool learnable) {
  const bool symmetric = x.quant && x.quant->scheme == QuantScheme::kSymmetricPerTensor;
  const bool affine = x.quant && x.quant->scheme == QuantScheme::kAffinePerTensor;
  if ((!symmetric && !affine) || x.quant->scales.size() != 1 ||
      (affine && x.quant->zero_points.size() != 1))
    return internal_error("insert_fake_quant: node '" + node.name + "' input '" + x.name +
                          "' has no per-tensor parameters in the static int8 graph");
  PlannedFakeQuant fq;
  fq.attrs.bits = kBits;
  fq.attrs.symmetric = symmetric;
  fq.attrs.unsigned_range = affine;  // quantize_static stores affine activations as uint8
  fq.attrs.learnable_scale = learnable;
  fq.scales = {x.quant->scales[0]};
  if (affine) fq.zero_points = {static_cast<float>(x.quant->zero_points[0])};
  return fq;
}

}  // namespace

Result<Graph> insert_fake_quant(const Graph& graph, const CalibrationTable& table,
                                const QatOptions& options) {
  const bool nf4 = options.mode == QatMode::kNF4;
  // The deployed graph tells which layers and activations are quantized, and how.
  Result<Graph> deployed_or = [&]() -> Result<Graph> {
    if (nf4)
      return quantize_nf4(graph,
                          {options.policy, options.nf4_block_size, options.nf4_double_quant});
    StaticOptions so;
    so.policy = options.policy;
    so.symmetric = options.symmetric;
    so.int8_between_ops = false;  // chains do not change which values are quantized, or how
    return quantize_static(graph, table, so);
  }();
  if (!deployed_or.is_ok()) return deployed_or.status().with_context("insert_fake_quant");
  const Graph& deployed = *deployed_or;
  if (deployed.nodes.size() != graph.nodes.size())
    return internal_error("insert_fake_quant: the deployed graph has a different node count");

  const std::string& quantized = nf4 ? kNf4 : kInt8Static;
  QatGraphBuilder builder(graph);
  std::vector<PrecisionRecord> records;
  std::map<ValueId, bool> planned;
  std::map<std::string, std::string> precision_metadata;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    const Node& target = deployed.nodes[n];
    records.push_back(node.precision);
    if (!is_weighted(node)) continue;
    precision_metadata[qat::precision_key(node.name)] = target.precision.precision;
    if (target.precision.precision != quantized) {
      // Kept by the policy (or unconvertible): unfaked, float during training.
      if (unconvertible_weight_reason(graph, node).empty())
        records.back() =
            PrecisionRecord{precision_name(Precision::kFP32), target.precision.reason, 0.0f};
      continue;
    }
    records.back() = PrecisionRecord{precision_name(Precision::kFP32),
                                     "quantization-aware training for " + quantized, 0.0f};
    for (size_t slot : weight_slots(node)) {
      const ValueId w = node.inputs[slot];
      if (w == kNoValue) continue;
      if (!planned.count(w)) {
        PlannedFakeQuant fq;
        if (nf4) {
          fq.attrs.mode = FakeQuantMode::kNF4;
          fq.attrs.block_size = options.nf4_block_size;
          fq.attrs.double_quant = options.nf4_double_quant;
        } else {
          QRT_ASSIGN_OR_RETURN(fq, weight_fake_quant(graph, node, w, options.learnable_scales));
        }
        builder.plan(w, std::move(fq));
        planned[w] = true;
      }
      builder.reroute(static_cast<int>(n), slot);
    }
    if (nf4) continue;
    if (node.op == OpKind::kLSTM) builder.fake_quant_lstm_hidden(static_cast<int>(n));
    const ValueId x = node.inputs[0];
    if (!planned.count(x)) {
      QRT_ASSIGN_OR_RETURN(PlannedFakeQuant fq,
                           activation_fake_quant(node, deployed.values[static_cast<size_t>(x)],
                                                 options.learnable_scales));
      builder.plan(x, std::move(fq));
      planned[x] = true;
    }
    builder.reroute(static_cast<int>(n), 0);
  }
  QRT_ASSIGN_OR_RETURN(Graph out, builder.build(records));
  out.metadata[qat::kModeKey] = qat::mode_name(nf4);
  for (auto& [key, value] : precision_metadata) out.metadata[key] = value;
  return finish_pass(std::move(out), "insert_fake_quant");
}

}  // namespace qrt::ir::passes
