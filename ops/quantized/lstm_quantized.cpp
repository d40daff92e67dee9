// LSTM (PyTorch nn.LSTM, batch_first) in a quantized precision: the recurrence of ops/lstm.h with
// each layer's two gate projections computed by the precision's Projection (docs/quantization.md
// §2-§6). Gate nonlinearities and the cell state stay f32 in every precision.
//   fp16/bf16, w8a16, nf4: the weight forms of Linear, float activations.
//   int8-dynamic: x_t and h_{t-1} quantized per row at every step (rows are independent, so the
//     input projection quantizes x in chunks of time steps, ops/lstm.h, with the same result).
//     With the LLM.int8() threshold on, each step's product picks its own outlier columns (over
//     its B rows): a chunk holding an outlier is projected step by step (rows_interact).
//   int8-static: layer 0's x_t with the calibrated scale / zero point of the node's input x;
//     h_{t-1} and the layer-(l-1) hidden sequence that feeds layer l with scale 1/127 (h lies in
//     (-1, 1)).
#include <algorithm>
#include <string>
#include <vector>

#include "ops/kernel_support.h"
#include "ops/lstm.h"
#include "ops/quantized/projection.h"
#include "ops/quantized/quantized_kernels.h"
#include "ops/quantized/quantized_support.h"

namespace qrt::ops::quantized {

namespace {

std::size_t input_index(int64_t layer, std::size_t k) {
  return kLstmFirstLayerInput + kLstmInputsPerLayer * static_cast<std::size_t>(layer) + k;
}

class QuantizedLstmKernel final : public LstmKernelBase {
 public:
  explicit QuantizedLstmKernel(ir::Precision precision) : precision_(precision) {}

 protected:
  Status check_types(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    projections_.clear();
    projection_bytes_ = 0;
    if (node_precision(node) != precision_)
      return node_error(node, "precision '" + node.precision.precision + "' but this is the " +
                                  ir::precision_name(precision_) + " kernel");
    const ir::Value* x = value_of(ctx.graph, node.inputs[0]);
    if (x == nullptr || ctx.input_types[0] == nullptr)
      return node_error(node, "required input x is absent");
    if (!activation_has_form(precision_, *x) || ctx.input_types[0]->dtype != ir::DType::kF32)
      return node_error(node, "input x '" + x->name + "' is not an f32 tensor in the form " +
                                  ir::precision_name(precision_) + " reads");
    for (std::size_t i = 1; i < kLstmFirstLayerInput; ++i)
      if (ctx.input_types[i] != nullptr && ctx.input_types[i]->dtype != ir::DType::kF32)
        return node_error(node, std::string(i == 1 ? "h0" : "c0") + " must be f32");
    for (std::size_t i = 0; i < ctx.output_types.size(); ++i)
      if (ctx.output_types[i] != nullptr && ctx.output_types[i]->dtype != ir::DType::kF32)
        return node_error(node, "output " + std::to_string(i) + " must be f32");
    return Status::ok();
  }

  bool rows_interact(int64_t layer, int64_t rows, const float* x, int64_t ldx) const override {
    return projections_[2 * static_cast<std::size_t>(layer)]->rows_interact(rows, x, ldx);
  }

  Status prepare_projection(const runtime::PrepareContext& ctx, int64_t layer, Matrix matrix,
                            int64_t in, const std::string& what) override {
    const ir::Node& node = ctx.node;
    const std::size_t k = matrix == Matrix::kInput ? 0 : 1;
    ProjectionSpec spec;
    spec.node = &node;
    spec.what = what;
    spec.weight = value_of(ctx.graph, node.inputs[input_index(layer, k)]);
    spec.bias = value_of(ctx.graph, node.inputs[input_index(layer, k + 2)]);
    if (spec.weight == nullptr) return node_error(node, what + " is absent");
    spec.N = 4 * dims().H;
    spec.K = in;
    spec.outlier_threshold = node.precision.outlier_threshold;
    const std::string layer_name = "layer " + std::to_string(layer);
    if (matrix == Matrix::kHidden) {
      spec.input = "h_{t-1} of " + layer_name;
    } else if (layer == 0) {
      spec.input = "input '" + value_of(ctx.graph, node.inputs[0])->name + "'";
    } else {
      spec.input =
          "h sequence of layer " + std::to_string(layer - 1) + " (input of " + layer_name + ")";
    }
    if (precision_ == ir::Precision::kInt8Static && layer == 0 && matrix == Matrix::kInput) {
      QRT_ASSIGN_OR_RETURN(spec.activation,
                           ir::fixed_activation_quant(node, *value_of(ctx.graph, node.inputs[0])));
    }  // otherwise the default: symmetric, scale 1/127, for a hidden state
    QRT_ASSIGN_OR_RETURN(std::unique_ptr<Projection> p, make_projection(precision_, spec));
    const int64_t rows = matrix == Matrix::kInput ? max_input_rows() : dims().B;
    projection_bytes_ = std::max(projection_bytes_, p->workspace_bytes(rows));
    projections_.push_back(std::move(p));  // order: layer 0 input, layer 0 hidden, layer 1 ...
    return Status::ok();
  }

  std::size_t projection_workspace_bytes() const override { return projection_bytes_; }

  Status project(int64_t layer, Matrix matrix, int64_t rows, const float* x, int64_t ldx,
                 const void* weight, const void* bias, float* y, int64_t ldy, void* workspace,
                 RowNumbering numbering) override {
    const std::size_t i = 2 * static_cast<std::size_t>(layer) + (matrix == Matrix::kInput ? 0 : 1);
    return projections_[i]->run_checked(rows, x, ldx, weight, bias, y, ldy, workspace, numbering);
  }

  // "w_ih of layer 0: f32 weights decoded at prepare, K=7 < 16; others: int8 GEMM ...": the
  // description most projections share is given once, the exceptions by name.
  std::string describe() const override {
    std::vector<std::string> descriptions;
    for (const auto& p : projections_) descriptions.push_back(p->describe());
    std::string common;
    std::size_t best = 0;
    for (const std::string& d : descriptions) {
      const auto count =
          static_cast<std::size_t>(std::count(descriptions.begin(), descriptions.end(), d));
      if (count > best) {
        best = count;
        common = d;
      }
    }
    std::string out;
    for (std::size_t i = 0; i < descriptions.size(); ++i) {
      if (descriptions[i] == common) continue;
      out += (i % 2 == 0 ? "w_ih" : "w_hh") + std::string(" of layer ") + std::to_string(i / 2) +
             ": " + (descriptions[i].empty() ? "reference" : descriptions[i]) + "; ";
    }
    if (common.empty() && out.empty()) return {};
    return out + (out.empty() ? "" : "others: ") + (common.empty() ? "reference" : common);
  }

 private:
  ir::Precision precision_;
  std::vector<std::unique_ptr<Projection>> projections_;
  std::size_t projection_bytes_ = 0;
};

}  // namespace

bool supports_quantized_lstm(ir::Precision precision, const ir::Graph& graph,
                             const ir::Node& node) {
  if (node.op != ir::OpKind::kLSTM || node_precision(node) != precision) return false;
  if (node.inputs.size() < kLstmFirstLayerInput + kLstmInputsPerLayer ||
      (node.inputs.size() - kLstmFirstLayerInput) % kLstmInputsPerLayer != 0)
    return false;
  const ir::Value* x = value_of(graph, node.inputs[0]);
  if (x == nullptr || !activation_has_form(precision, *x)) return false;
  for (std::size_t i = 1; i < kLstmFirstLayerInput; ++i) {
    if (node.inputs[i] == ir::kNoValue) continue;
    const ir::Value* v = value_of(graph, node.inputs[i]);
    if (v == nullptr || !is_plain_f32(*v)) return false;
  }
  for (std::size_t i = kLstmFirstLayerInput; i < node.inputs.size(); ++i) {
    const bool is_weight = (i - kLstmFirstLayerInput) % kLstmInputsPerLayer < 2;
    if (!is_weight && node.inputs[i] == ir::kNoValue) continue;
    const ir::Value* v = value_of(graph, node.inputs[i]);
    if (v == nullptr) return false;
    if (is_weight ? !weight_has_form(precision, *v) : !bias_has_form(precision, v)) return false;
  }
  for (ir::ValueId id : node.outputs) {
    const ir::Value* v = value_of(graph, id);
    if (v == nullptr || !is_plain_f32(*v)) return false;
  }
  return true;
}

std::unique_ptr<runtime::Kernel> make_quantized_lstm_kernel(ir::Precision precision) {
  return std::make_unique<QuantizedLstmKernel>(precision);
}

}  // namespace qrt::ops::quantized
