// Runs the CPU kernel chosen for the one node of a graph directly through the Kernel interface,
// guarding against the bugs a Session would hide: outputs and workspace are NaN-poisoned (reading
// what the kernel did not write shows up) and followed by canary words (writing past the end
// fails a CHECK). Shared by the float (op_harness) and quantized (quantized_harness) op tests.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/status.h"
#include "runtime/kernel.h"

namespace qrt::testing {

// Appends f32 values "out0", "out1", ... of the given shapes as graph outputs produced by `node`,
// then appends the node: the last step of building a one-node test graph.
void add_node_with_f32_outputs(ir::Graph& g, ir::Node node,
                               const std::vector<ir::Shape>& output_shapes);

struct KernelRunResult {
  std::string kernel_name;
  std::vector<std::vector<float>> outputs;  // f32, one per node output, without the canaries
};

// `graph` holds exactly one node; its input and output values give the types the kernel is
// prepared with (kNoValue inputs: absent). `inputs` are the views in node.inputs order.
Result<KernelRunResult> run_single_node_kernel(const ir::Graph& graph,
                                               const std::vector<runtime::ConstTensorView>& inputs);

}  // namespace qrt::testing
