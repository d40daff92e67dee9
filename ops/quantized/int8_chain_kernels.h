// CPU kernels of static int8 chains (ir/precision.h): the int8-static Linear that reads int8 codes
// and/or writes requantized int8 codes, and Relu / Reshape on int8 codes. Registered ahead of the
// float kernels by register_int8_chain_kernels; each `supports` accepts only nodes that touch int8
// activations (or an int8-static Linear whose float output carries calibration parameters), so
// every other node keeps its kernel.
#pragma once

#include <memory>

#include "ir/graph.h"
#include "runtime/kernel.h"
#include "runtime/kernel_registry.h"

namespace qrt::ops::quantized {

// A non-constant i8 value with symmetric per-tensor QuantParams, or u8 with affine per-tensor
// QuantParams (one scale): the codes a static int8 chain passes between ops.
bool is_int8_activation(const ir::Value& v);

bool supports_int8_static_chain_linear(const ir::Graph& graph, const ir::Node& node);
std::unique_ptr<runtime::Kernel> make_int8_static_chain_linear_kernel();

// Relu on codes: y = max(q, z) (relu commutes with per-tensor quantization); Reshape copies codes.
bool supports_int8_code_op(const ir::Graph& graph, const ir::Node& node);
std::unique_ptr<runtime::Kernel> make_int8_relu_kernel();
std::unique_ptr<runtime::Kernel> make_int8_reshape_kernel();

// Adds the three kernels above ("cpu.reference.linear.int8-static-chain",
// "cpu.reference.relu.int8", "cpu.reference.reshape.int8"); call before the other CPU kernels are
// added.
void register_int8_chain_kernels(runtime::KernelRegistry& registry);

}  // namespace qrt::ops::quantized
