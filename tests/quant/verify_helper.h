// Runs ir::verify on a one-node graph x -> Linear(w) whose weight carries the given quantized
// bytes and parameters, so tests can check that the primitives produce storable parameters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "tests/support/node_builder.h"

namespace qrt::ir::quant_testing {

// Names are moved in: assigning a literal to a freshly resized Value's name trips a GCC 12
// -Wrestrict false positive.
inline Value named_value(std::string name, Shape shape) {
  Value v;
  v.name = std::move(name);
  v.shape = std::move(shape);
  return v;
}

inline Status verify_as_linear_weight(DType dtype, const Shape& weight_shape,
                                      const std::vector<uint8_t>& bytes, const QuantParams& q) {
  Result<ConstantData> data = ConstantData::copy_of(bytes.data(), bytes.size());
  if (!data.is_ok()) return data.status();
  Graph g;
  g.values = {named_value("x", {kDynamicDim, weight_shape[1]}), named_value("w", weight_shape),
              named_value("fc", {kDynamicDim, weight_shape[0]})};
  g.values[1].dtype = dtype;
  g.values[1].data = std::move(data).value();
  g.values[1].quant = q;
  qrt::testing::wire_single_linear(g);
  return verify(g);
}

}  // namespace qrt::ir::quant_testing
