// Checks shared by the CPU reference kernels: the `supports` predicate and the prepare-time
// validation of a node's concrete input/output types. Every message starts with the node label
// ("node 'fc1' (Linear): ") so an error always names the node at fault.
#pragma once

#include <cstddef>
#include <string>
#include <variant>

#include "ir/graph.h"
#include "runtime/kernel.h"

namespace qrt::ops {

// True when every present input and every output of `node` is a plain f32 tensor without
// quantization parameters (what the reference kernels compute on). Out-of-range value ids -> false.
bool all_f32_unquantized(const ir::Graph& graph, const ir::Node& node);

// An invalid-model Status whose message is "node '<name>' (<Op>): <message>".
Status node_error(const ir::Node& node, const std::string& message);

// Checks that the context describes `node` (one type per input/output), that the input count is in
// [min_inputs, max_inputs], the output count is `num_outputs`, every present type is f32 with a
// static shape, and the first `required_inputs` inputs are present.
Status check_context(const runtime::PrepareContext& ctx, std::size_t min_inputs,
                     std::size_t max_inputs, std::size_t num_outputs, std::size_t required_inputs);

// Fails naming `what` unless `got` equals `expected`.
Status expect_shape(const ir::Node& node, const std::string& what, const ir::Shape& got,
                    const ir::Shape& expected);

// The node's attributes as `A`, or an error naming the node when they hold another type.
template <typename A>
Result<const A*> node_attrs(const ir::Node& node) {
  const A* attrs = std::get_if<A>(&node.attrs);
  if (attrs == nullptr) return node_error(node, "attributes have the wrong type for this op");
  return attrs;
}

}  // namespace qrt::ops
