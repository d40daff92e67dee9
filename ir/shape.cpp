#include "ir/shape.h"

#include <algorithm>
#include <limits>

namespace qrt::ir {

Result<int64_t> checked_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return invalid_model("shape " + shape_to_string(shape) + " has a negative dimension");
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      return invalid_model("shape " + shape_to_string(shape) + " has too many elements");
    n *= d;
  }
  return n;
}

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

bool is_static(const Shape& shape) {
  return std::all_of(shape.begin(), shape.end(), [](int64_t d) { return d >= 0; });
}

std::string shape_to_string(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] == kDynamicDim ? "?" : std::to_string(shape[i]);
  }
  return s + "]";
}

Result<int> normalize_axis(int64_t axis, int rank, const std::string& what) {
  const int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    return invalid_model(what + ": axis " + std::to_string(axis) + " out of range for rank " +
                         std::to_string(rank));
  return static_cast<int>(a);
}

namespace {
// Broadcast of two dims, or -2 when they cannot broadcast. A dynamic dim meets 1 -> dynamic, n -> n
// (the runtime must then supply n), dynamic -> dynamic.
int64_t broadcast_dim(int64_t a, int64_t b) {
  if (a == b) return a;
  if (a == 1) return b;
  if (b == 1) return a;
  if (a == kDynamicDim) return b;
  if (b == kDynamicDim) return a;
  return -2;
}
}  // namespace

Result<Shape> broadcast_shapes(const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Aligned at the trailing dim; missing leading dims count as 1.
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    out[i] = broadcast_dim(da, db);
    if (out[i] == -2)
      return invalid_model("shapes " + shape_to_string(a) + " and " + shape_to_string(b) +
                           " do not broadcast (dim " + std::to_string(i) + " of the result)");
  }
  return out;
}

}  // namespace qrt::ir
