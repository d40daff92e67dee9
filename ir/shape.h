// Tensor shapes. A dimension is >= 0; a graph input may mark a dimension as dynamic with
// kDynamicDim (-1), fixed when a session is given concrete input shapes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/status.h"

namespace qrt::ir {

using Shape = std::vector<int64_t>;
inline constexpr int64_t kDynamicDim = -1;

// Product of the dims; fails on a negative/dynamic dim or on int64 overflow.
Result<int64_t> checked_numel(const Shape& shape);
// Product of the dims of a shape known to be valid (no checks).
int64_t numel(const Shape& shape);
bool is_static(const Shape& shape);
std::string shape_to_string(const Shape& shape);  // "[2, 96, 7]", "?" for dynamic dims

// Normalizes a possibly negative axis (Python style) for a tensor of `rank` dims.
// Fails with a message naming `what` when the axis is out of range.
Result<int> normalize_axis(int64_t axis, int rank, const std::string& what);

// NumPy broadcasting of two shapes (dynamic dims: ? with 1 -> ?, ? with n -> n, ? with ? -> ?);
// fails naming both shapes.
Result<Shape> broadcast_shapes(const Shape& a, const Shape& b);

}  // namespace qrt::ir
