// One KernelEntry per op of ir/ops.def, all reference kernels (device kCpu). Each supports plain
// f32 nodes only: quantized or f16/bf16 tensors make `supports` return false, so a strict session
// reports the node instead of running it in the wrong precision.
#include "ops/register.h"

#include <string>

#include "ops/activation.h"
#include "ops/binary.h"
#include "ops/concat.h"
#include "ops/kernel_support.h"
#include "ops/layer_norm.h"
#include "ops/linear.h"
#include "ops/lstm.h"
#include "ops/reshape.h"
#include "ops/slice.h"
#include "ops/transpose.h"

namespace qrt::ops {

void register_cpu_kernels(runtime::KernelRegistry& registry) {
  using ir::OpKind;
  using Factory = std::function<std::unique_ptr<runtime::Kernel>()>;
  auto add = [&registry](OpKind op, const char* name, Factory create) {
    registry.add(runtime::KernelEntry{op, runtime::Device::kCpu,
                                      std::string("cpu.reference.") + name, all_f32_unquantized,
                                      std::move(create)});
  };
  auto activation = [](OpKind op) -> Factory {
    return [op] { return make_activation_kernel(op); };
  };
  auto binary = [](OpKind op) -> Factory { return [op] { return make_binary_kernel(op); }; };

  add(OpKind::kLinear, "linear", make_linear_kernel);
  add(OpKind::kLSTM, "lstm", make_lstm_kernel);
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
  static_assert(ir::kNumOpKinds == 16, "ops.def changed: register a CPU kernel for the new op");
}

}  // namespace qrt::ops
