// One KernelEntry per op of ir/ops.def, all reference kernels (device kCpu). The quantized Linear
// and LSTM kernels (ops/quantized/, one per precision of ir/precision.h) come first: each supports
// exactly the nodes recorded in its precision with that precision's tensor forms. The f32 kernels
// support f32 nodes only (calibration annotations on activations allowed; for Linear/LSTM, a node
// recorded as fp32): anything else makes every `supports` return false, so a strict session reports
// the node instead of running it in the wrong precision.
#include "ops/register.h"

#include <iterator>
#include <string>

#include "ir/precision_forms.h"
#include "ops/activation.h"
#include "ops/binary.h"
#include "ops/concat.h"
#include "ops/fake_quant.h"
#include "ops/kernel_support.h"
#include "ops/layer_norm.h"
#include "ops/linear.h"
#include "ops/lstm.h"
#include "ops/quantized/int8_chain_kernels.h"
#include "ops/quantized/quantized_kernels.h"
#include "ops/reshape.h"
#include "ops/slice.h"
#include "ops/transpose.h"

namespace qrt::ops {

void register_cpu_kernels(runtime::KernelRegistry& registry) {
  using ir::OpKind;
  using Factory = std::function<std::unique_ptr<runtime::Kernel>()>;
  auto add = [&registry](OpKind op, const char* name, Factory create) {
    registry.add(runtime::KernelEntry{op, runtime::Device::kCpu,
                                      std::string("cpu.reference.") + name, ir::all_f32_data,
                                      std::move(create)});
  };
  auto activation = [](OpKind op) -> Factory {
    return [op] { return make_activation_kernel(op); };
  };
  auto binary = [](OpKind op) -> Factory { return [op] { return make_binary_kernel(op); }; };

  constexpr ir::Precision kQuantized[] = {ir::Precision::kFP16,       ir::Precision::kBF16,
                                          ir::Precision::kW8A16,      ir::Precision::kInt8Dynamic,
                                          ir::Precision::kInt8Static, ir::Precision::kNF4};
  static_assert(std::size(kQuantized) == ir::kNumPrecisions - 1,
                "ir/precision.h changed: add a quantized CPU kernel for the new precision");
  quantized::register_int8_chain_kernels(registry);  // static int8 chains: before float kernels
  for (ir::Precision p : kQuantized) {
    // "cpu.reference.linear.int8-dynamic", ...
    const std::string suffix = std::string(".") + ir::precision_name(p);
    registry.add(runtime::KernelEntry{OpKind::kLinear, runtime::Device::kCpu,
                                      "cpu.reference.linear" + suffix,
                                      [p](const ir::Graph& g, const ir::Node& n) {
                                        return quantized::supports_quantized_linear(p, g, n);
                                      },
                                      [p] { return quantized::make_quantized_linear_kernel(p); }});
    registry.add(runtime::KernelEntry{OpKind::kLSTM, runtime::Device::kCpu,
                                      "cpu.reference.lstm" + suffix,
                                      [p](const ir::Graph& g, const ir::Node& n) {
                                        return quantized::supports_quantized_lstm(p, g, n);
                                      },
                                      [p] { return quantized::make_quantized_lstm_kernel(p); }});
  }
  auto add_fp32_weighted = [&registry](OpKind op, const char* name, Factory create) {
    registry.add(
        runtime::KernelEntry{op, runtime::Device::kCpu, std::string("cpu.reference.") + name,
                             [](const ir::Graph& g, const ir::Node& n) {
                               return n.precision.precision == "fp32" && ir::all_f32_data(g, n);
                             },
                             std::move(create)});
  };
  add_fp32_weighted(OpKind::kLinear, "linear", make_linear_kernel);
  add_fp32_weighted(OpKind::kLSTM, "lstm", make_lstm_kernel);
  add(OpKind::kLayerNorm, "layer_norm", make_layer_norm_kernel);
  add(OpKind::kRelu, "relu", activation(OpKind::kRelu));
  add(OpKind::kLeakyRelu, "leaky_relu", activation(OpKind::kLeakyRelu));
  add(OpKind::kGelu, "gelu", activation(OpKind::kGelu));
  add(OpKind::kSilu, "silu", activation(OpKind::kSilu));
  add(OpKind::kSigmoid, "sigmoid", activation(OpKind::kSigmoid));
  add(OpKind::kTanh, "tanh", activation(OpKind::kTanh));
  add(OpKind::kAdd, "add", binary(OpKind::kAdd));
  add(OpKind::kSub, "sub", binary(OpKind::kSub));
  add(OpKind::kMul, "mul", binary(OpKind::kMul));
  add(OpKind::kReshape, "reshape", make_reshape_kernel);
  add(OpKind::kTranspose, "transpose", make_transpose_kernel);
  add(OpKind::kSlice, "slice", make_slice_kernel);
  add(OpKind::kConcat, "concat", make_concat_kernel);
  add(OpKind::kFakeQuant, "fake_quant", make_fake_quant_kernel);
  static_assert(ir::kNumOpKinds == 17, "ops.def changed: register a CPU kernel for the new op");
}

}  // namespace qrt::ops
