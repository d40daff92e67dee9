#include "ops/quantized/packed_int8_weight.h"

#include <string>

#include "ops/kernel_support.h"
#include "ops/quantized/quantized_support.h"

namespace qrt::ops::quantized {

Result<PackedInt8Weight> pack_int8_weight(const ProjectionSpec& spec) {
  PackedInt8Weight w;
  QRT_ASSIGN_OR_RETURN(w.scales, int8_weight_scales(spec));
  QRT_RETURN_IF_ERROR(require_constant(*spec.node, spec.what, *spec.weight));
  const auto q = spec.weight->data->as<int8_t>();
  if (static_cast<int64_t>(q.size()) < spec.N * spec.K)
    return node_error(*spec.node, spec.what + " '" + spec.weight->name + "' holds " +
                                      std::to_string(q.size()) + " bytes, expected " +
                                      std::to_string(spec.N * spec.K));
  w.codes = pack_int8_weights(q.data(), static_cast<std::size_t>(spec.K),
                              static_cast<std::size_t>(spec.N), static_cast<std::size_t>(spec.K));
  return w;
}

}  // namespace qrt::ops::quantized
