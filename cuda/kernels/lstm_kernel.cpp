// LSTM on the GPU: the persistent kernel of cuda/lstm/lstm.cuh for the precisions it implements
// (fp16, int8-dynamic, int8-static, nf4; the arithmetic of each is the CPU reference's,
// ops/quantized/lstm_quantized.cpp). prepare decodes the graph's weights (int8 scales, NF4 double
// quantization, f16 biases) and hands them to LstmPlan::prepare, which repacks them into the
// per-CTA shared-memory blocks and uploads them once. Nodes whose weights do not fit on chip are
// declined by supports_lstm (lstm_can_implement against the current device), so that kernel
// selection, which does not fall back after a failed prepare, gives them to the CPU kernels.
#include <memory>
#include <string>
#include <vector>

#include "cuda/cuda_status.h"
#include "cuda/kernels/kernel_support.h"
#include "cuda/kernels/kernels.h"
#include "cuda/lstm/lstm.cuh"
#include "ir/op_schema.h"
#include "ir/quantize.h"

namespace qrt::cuda::kernels {

namespace {

// LSTM inputs: x, h0?, c0?, then per layer w_ih, w_hh, b_ih?, b_hh? (ir/ops.def).
constexpr std::size_t kX = 0, kH0 = 1, kC0 = 2, kFirstLayerInput = 3, kInputsPerLayer = 4;
constexpr std::size_t kY = 0, kHn = 1, kCn = 2;

std::optional<LstmPrecision> lstm_precision(ir::Precision p) {
  switch (p) {
    case ir::Precision::kFP16:
      return LstmPrecision::kFp16;
    case ir::Precision::kInt8Dynamic:
      return LstmPrecision::kInt8Dynamic;
    case ir::Precision::kInt8Static:
      return LstmPrecision::kInt8Static;
    case ir::Precision::kNF4:
      return LstmPrecision::kNf4;
    default:
      return std::nullopt;  // fp32, bf16, w8a16: not implemented by the persistent kernel
  }
}

bool supports_lstm(const ir::Graph& graph, const ir::Node& node) {
  if (node.op != ir::OpKind::kLSTM) return false;
  const std::optional<ir::Precision> precision = node_precision(node);
  if (!precision || !lstm_precision(*precision)) return false;
  if (node.inputs.empty()) return false;
  const ir::Value* x = value_of(graph, node.inputs[kX]);
  if (x == nullptr || !activation_has_form(*precision, *x)) return false;
  // The CPU int8-dynamic LSTM applies the LLM.int8() outlier decomposition (|x| >= threshold
  // columns in float; quantize_dynamic records 6 by default) to its projections
  // (ops/quantized/lstm_quantized.cpp); the persistent kernel has none. The two agree whenever no
  // column can be an outlier: the hidden-state products read |h| <= 1, so a threshold above 1
  // never fires there, and a layer-0 input narrower than 16 features runs in float on both sides
  // (ops/quantized/decoded_projection.h, kMinQuantizedK). Otherwise the CPU kernel runs the node.
  if (*precision == ir::Precision::kInt8Dynamic && node.precision.outlier_threshold != 0.0f) {
    constexpr int64_t kMinQuantizedK = 16;
    const int64_t C = x->shape.size() == 3 ? x->shape[2] : -1;
    if (!(node.precision.outlier_threshold > 1.0f) || C < 0 || C >= kMinQuantizedK) return false;
  }
  if (node.inputs.size() < kFirstLayerInput + kInputsPerLayer ||
      (node.inputs.size() - kFirstLayerInput) % kInputsPerLayer != 0)
    return false;
  for (std::size_t i = kH0; i < kFirstLayerInput; ++i) {
    if (node.inputs[i] == ir::kNoValue) continue;
    const ir::Value* v = value_of(graph, node.inputs[i]);
    if (v == nullptr || !is_plain_f32(*v)) return false;
  }
  for (std::size_t i = kFirstLayerInput; i < node.inputs.size(); ++i) {
    const bool is_weight = (i - kFirstLayerInput) % kInputsPerLayer < 2;
    if (!is_weight && node.inputs[i] == ir::kNoValue) continue;
    const ir::Value* v = value_of(graph, node.inputs[i]);
    if (v == nullptr) return false;
    if (is_weight ? !weight_has_form(*precision, *v) : !bias_has_form(*precision, v)) return false;
  }
  for (ir::ValueId id : node.outputs) {
    const ir::Value* v = value_of(graph, id);
    if (v == nullptr || !is_plain_f32(*v)) return false;
  }
  // Weights that do not fit on chip fail LstmPlan::prepare, and kernel selection does not fall
  // back after a failed prepare: when a device can be asked, such a node is left to the CPU
  // kernels here (without one, prepare reports the missing device).
  const auto* attrs = std::get_if<ir::LstmAttrs>(&node.attrs);
  const ir::Value* w_ih = value_of(graph, node.inputs[kFirstLayerInput]);
  if (attrs == nullptr || w_ih->shape.size() != 2) return false;
  const Result<DeviceInfo> device = query_current_device();
  if (!device.is_ok()) return true;
  LstmDesc desc;
  desc.precision = *lstm_precision(*precision);
  desc.input_size = w_ih->shape[1];
  desc.hidden_size = attrs->hidden_size;
  desc.num_layers = attrs->num_layers;
  if (desc.precision == LstmPrecision::kNf4) desc.nf4_block_size = w_ih->quant->block_size;
  return lstm_can_implement(desc, {}, device->shared_memory_per_block_optin_bytes).is_ok();
}

// Host copies of what LstmLayerWeights points at, alive until LstmPlan::prepare has uploaded them.
struct DecodedLayer {
  std::vector<float> w_ih_scales, w_hh_scales;  // int8: per row; nf4: block absmax
  std::vector<float> b_ih, b_hh;
};

class LstmKernel final : public runtime::Kernel {
 public:
  Status prepare(const runtime::PrepareContext& ctx) override {
    const ir::Node& node = ctx.node;
    label_ = ir::node_label(node);
    if (!supports_lstm(ctx.graph, node))
      return node_unsupported(node,
                              "not an LSTM in a precision and graph form the CUDA LSTM "
                              "reads (precision '" +
                                  node.precision.precision + "')");
    QRT_RETURN_IF_ERROR(check_inferred_outputs(ctx));
    const auto* attrs = std::get_if<ir::LstmAttrs>(&node.attrs);
    const ir::TensorType* xt = ctx.input_types[kX];
    if (attrs == nullptr || xt == nullptr || xt->shape.size() != 3 || !ir::is_static(xt->shape))
      return node_error(node, "needs LstmAttrs and an input x of concrete shape [B, T, C]");
    const ir::Precision precision = *node_precision(node);
    LstmDesc desc;
    desc.precision = *lstm_precision(precision);
    desc.input_size = xt->shape[2];
    desc.hidden_size = attrs->hidden_size;
    desc.num_layers = attrs->num_layers;
    batch_ = xt->shape[0];
    steps_ = xt->shape[1];
    if (precision == ir::Precision::kInt8Static) {
      QRT_ASSIGN_OR_RETURN(const FixedQuant q,
                           ir::fixed_activation_quant(node, *value_of(ctx.graph, node.inputs[kX])));
      desc.input_quant = LstmInputQuant{q.scale, q.zero_point, q.qmin, q.qmax};
    }

    const auto layers = static_cast<std::size_t>(desc.num_layers);
    std::vector<DecodedLayer> decoded(layers);
    std::vector<LstmLayerWeights> weights(layers);
    for (std::size_t l = 0; l < layers; ++l)
      QRT_RETURN_IF_ERROR(decode_layer(ctx, desc, l, decoded[l], weights[l]));
    QRT_RETURN_IF_ERROR(require_device(node).status());  // after the host-side checks
    Result<LstmPlan> plan = LstmPlan::prepare(desc, weights);
    if (!plan.is_ok()) return labeled(label_, plan.status());
    plan_ = std::make_unique<LstmPlan>(std::move(plan).value());
    // x, h0 and c0 may be constants (an exported zero initial state): the session passes those as
    // host views, so they are uploaded here; the weights were uploaded by the plan.
    QRT_RETURN_IF_ERROR(constants_.upload(ctx, kFirstLayerInput));
    host_inputs_ = constants_.flags();
    host_inputs_.resize(node.inputs.size(), true);
    layers_ = desc.num_layers;
    hidden_ = desc.hidden_size;
    return Status::ok();
  }

  std::size_t workspace_bytes() const override {
    return plan_ ? plan_->workspace_bytes(batch_, steps_) : 0;
  }

  Status run(const runtime::RunContext& ctx) override {
    QRT_RETURN_IF_ERROR(check_device_views(label_, ctx, ctx.inputs.size(), 3, host_inputs_));
    const auto* h0 = static_cast<const float*>(constants_.data(ctx, kH0));
    const auto* c0 = static_cast<const float*>(constants_.data(ctx, kC0));
    if (batch_ == 0) return Status::ok();  // every output is empty
    if (steps_ == 0) return empty_sequence(ctx, h0, c0);
    if (!ctx.inputs[kX].present() || ctx.outputs[kY].data == nullptr)
      return invalid_argument(label_ + "input x and output y must be present");
    LstmRunArgs args;
    args.batch = batch_;
    args.steps = steps_;
    args.x = static_cast<const float*>(constants_.data(ctx, kX));
    args.h0 = h0;
    args.c0 = c0;
    args.y = ctx.outputs[kY].as<float>();
    args.h_n = ctx.outputs[kHn].as<float>();
    args.c_n = ctx.outputs[kCn].as<float>();
    args.workspace = ctx.workspace;
    args.workspace_bytes = workspace_bytes();
    const Status launched = launch_lstm(*plan_, args, stream_of(ctx));
    return labeled(label_, launched);
  }

  std::string describe() const override {
    if (!plan_) return {};
    const LstmLaunchShape& s = plan_->shape();
    return std::string("persistent ") + lstm_precision_name(plan_->desc().precision) +
           " LSTM, clusters of " + std::to_string(s.cluster_size) + " CTAs";
  }

 private:
  // Layer l's weights in the form LstmLayerWeights reads; `store` keeps the decoded arrays.
  Status decode_layer(const runtime::PrepareContext& ctx, LstmDesc& desc, std::size_t l,
                      DecodedLayer& store, LstmLayerWeights& out) const {
    const ir::Node& node = ctx.node;
    const std::size_t first = kFirstLayerInput + kInputsPerLayer * l;
    const ir::Value& w_ih = *value_of(ctx.graph, node.inputs[first]);
    const ir::Value& w_hh = *value_of(ctx.graph, node.inputs[first + 1]);
    const int64_t rows = 4 * desc.hidden_size;
    const int64_t in = l == 0 ? desc.input_size : desc.hidden_size;
    if (w_ih.shape != ir::Shape{rows, in} || w_hh.shape != ir::Shape{rows, desc.hidden_size})
      return node_error(
          node, "layer " + std::to_string(l) + " weights are " + ir::shape_to_string(w_ih.shape) +
                    " and " + ir::shape_to_string(w_hh.shape) + ", expected [" +
                    std::to_string(rows) + ", " + std::to_string(in) + "] and [" +
                    std::to_string(rows) + ", " + std::to_string(desc.hidden_size) + "]");
    for (std::size_t k = 2; k < 4; ++k) {
      const ir::Value* b = value_of(ctx.graph, node.inputs[first + k]);
      if (b == nullptr) continue;
      QRT_ASSIGN_OR_RETURN((k == 2 ? store.b_ih : store.b_hh), constant_floats(node, *b, rows));
    }
    out.b_ih = store.b_ih.empty() ? nullptr : store.b_ih.data();
    out.b_hh = store.b_hh.empty() ? nullptr : store.b_hh.data();

    switch (desc.precision) {
      case LstmPrecision::kFp16: {
        QRT_ASSIGN_OR_RETURN(const unsigned char* ih, constant_bytes(node, w_ih, bytes(w_ih, 16)));
        QRT_ASSIGN_OR_RETURN(const unsigned char* hh, constant_bytes(node, w_hh, bytes(w_hh, 16)));
        out.w_ih_f16 = reinterpret_cast<const uint16_t*>(ih);
        out.w_hh_f16 = reinterpret_cast<const uint16_t*>(hh);
        return Status::ok();
      }
      case LstmPrecision::kInt8Dynamic:
      case LstmPrecision::kInt8Static: {
        QRT_ASSIGN_OR_RETURN(store.w_ih_scales, int8_weight_scales(node, w_ih, rows));
        QRT_ASSIGN_OR_RETURN(store.w_hh_scales, int8_weight_scales(node, w_hh, rows));
        QRT_ASSIGN_OR_RETURN(const unsigned char* ih, constant_bytes(node, w_ih, bytes(w_ih, 8)));
        QRT_ASSIGN_OR_RETURN(const unsigned char* hh, constant_bytes(node, w_hh, bytes(w_hh, 8)));
        out.w_ih_i8 = reinterpret_cast<const int8_t*>(ih);
        out.w_hh_i8 = reinterpret_cast<const int8_t*>(hh);
        out.w_ih_scales = store.w_ih_scales.data();
        out.w_hh_scales = store.w_hh_scales.data();
        return Status::ok();
      }
      case LstmPrecision::kNf4: {
        // One block size for the whole node: the kernel's shared-memory layout assumes it.
        const int64_t block = w_ih.quant->block_size;
        if (l == 0) desc.nf4_block_size = block;
        if (block != desc.nf4_block_size || w_hh.quant->block_size != desc.nf4_block_size)
          return node_unsupported(node,
                                  "the CUDA LSTM needs one NF4 block size for every weight; "
                                  "layer " +
                                      std::to_string(l) + " has " + std::to_string(block) +
                                      " and " + std::to_string(w_hh.quant->block_size) +
                                      ", layer 0 " + std::to_string(desc.nf4_block_size));
        store.w_ih_scales = ir::nf4_block_absmax(*w_ih.quant);
        store.w_hh_scales = ir::nf4_block_absmax(*w_hh.quant);
        if (static_cast<int64_t>(store.w_ih_scales.size()) * block != rows * in ||
            static_cast<int64_t>(store.w_hh_scales.size()) * block != rows * desc.hidden_size)
          return node_error(node, "layer " + std::to_string(l) +
                                      " NF4 weights decode to the wrong number of block absmax "
                                      "values for block size " +
                                      std::to_string(block));
        QRT_ASSIGN_OR_RETURN(const unsigned char* ih, constant_bytes(node, w_ih, bytes(w_ih, 4)));
        QRT_ASSIGN_OR_RETURN(const unsigned char* hh, constant_bytes(node, w_hh, bytes(w_hh, 4)));
        out.w_ih_nf4 = ih;
        out.w_hh_nf4 = hh;
        out.w_ih_absmax = store.w_ih_scales.data();
        out.w_hh_absmax = store.w_hh_scales.data();
        return Status::ok();
      }
    }
    return internal_error(label_ + "unhandled LSTM precision");
  }

  // T = 0: y is empty and the final state is the initial one (zeros when absent), as on the CPU
  // (ops/lstm.cpp). Device copies on the stream, so a recording captures them.
  Status empty_sequence(const runtime::RunContext& ctx, const float* h0, const float* c0) const {
    const auto bytes = static_cast<std::size_t>(layers_ * batch_ * hidden_) * sizeof(float);
    const cudaStream_t stream = stream_of(ctx);
    const float* initial[] = {h0, c0};
    const std::size_t outputs[] = {kHn, kCn};
    for (std::size_t i = 0; i < 2; ++i) {
      void* out = ctx.outputs[outputs[i]].data;
      if (out == nullptr || bytes == 0) continue;
      if (initial[i] != nullptr) {
        QRT_CUDA_RETURN_IF_ERROR(
            cudaMemcpyAsync(out, initial[i], bytes, cudaMemcpyDeviceToDevice, stream));
      } else {
        QRT_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(out, 0, bytes, stream));
      }
    }
    return Status::ok();
  }

  static std::size_t bytes(const ir::Value& w, int64_t bits) {
    return static_cast<std::size_t>(ir::numel(w.shape) * bits / 8);
  }

  std::string label_;
  int64_t batch_ = 0, steps_ = 0, layers_ = 0, hidden_ = 0;
  std::unique_ptr<LstmPlan> plan_;
  ConstantInputs constants_;       // x, h0, c0 when they are constants
  std::vector<bool> host_inputs_;  // the inputs the session passes as host views
};

}  // namespace

void register_lstm_kernel(runtime::KernelRegistry& registry) {
  add_cuda_entry(registry, ir::OpKind::kLSTM, "cuda.lstm", supports_lstm,
                 [] { return std::make_unique<LstmKernel>(); });
}

}  // namespace qrt::cuda::kernels
