// Helpers shared by the quantization primitives (ir/quantize*.cpp); not part of the public API.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "ir/quantize.h"

namespace qrt::ir::quantize_internal {

// Checks that a view is usable by a primitive: static shape, data.size() == numel(shape), not
// empty, every value finite. `what` names the caller ("quantize_symmetric") in the message.
inline Status validate_view(const FloatTensorView& t, const std::string& what) {
  for (int64_t d : t.shape)
    if (d < 0)
      return invalid_argument(what + ": shape " + shape_to_string(t.shape) +
                              " has a negative or dynamic dimension");
  Result<int64_t> n = checked_numel(t.shape);
  if (!n.is_ok()) return invalid_argument(what + ": " + n.status().message());
  if (static_cast<uint64_t>(*n) != t.data.size())
    return invalid_argument(what + ": shape " + shape_to_string(t.shape) + " has " +
                            std::to_string(*n) + " elements but the data holds " +
                            std::to_string(t.data.size()));
  if (*n == 0) return invalid_argument(what + ": empty tensor " + shape_to_string(t.shape));
  for (size_t i = 0; i < t.data.size(); ++i)
    if (!std::isfinite(t.data[i]))
      return invalid_argument(what + ": element " + std::to_string(i) + " is " +
                              std::to_string(t.data[i]) + " (values must be finite)");
  return Status::ok();
}

}  // namespace qrt::ir::quantize_internal
