// Output index -> input offset for the data-movement and broadcasting kernels: an output of shape
// dims[0..rank) walked in row-major order reads its input at Σ_d coord_d·strides[d]. Transpose
// (permuted strides), Slice (outer, count, inner with the step folded into a stride) and NumPy
// broadcasting (stride 0 along a stretched dim) are all this one rule. Plain C++ (the struct is
// passed to kernels by value); the offset function is host and device code under nvcc.
#pragma once

#include <cstdint>

#include "ir/shape.h"

namespace qrt::cuda::kernels {

inline constexpr int kMaxStridedRank = 8;

struct StridedIndex {
  int rank = 0;
  int64_t dims[kMaxStridedRank] = {};     // output dims
  int64_t strides[kMaxStridedRank] = {};  // input elements per step along each output dim
};

// Row-major element strides of `shape`.
inline ir::Shape row_major_strides(const ir::Shape& shape) {
  ir::Shape strides(shape.size(), 1);
  for (std::size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  return strides;
}

// The index of an input of shape `in` broadcast (NumPy rules, right-aligned) to the output `out`;
// both ranks must be <= kMaxStridedRank and the shapes broadcast-compatible.
inline StridedIndex broadcast_index(const ir::Shape& in, const ir::Shape& out) {
  StridedIndex s;
  s.rank = static_cast<int>(out.size());
  const ir::Shape in_strides = row_major_strides(in);
  const std::size_t lead = out.size() - in.size();
  for (std::size_t d = 0; d < out.size(); ++d) {
    s.dims[d] = out[d];
    const bool present = d >= lead && in[d - lead] != 1;
    s.strides[d] = present ? in_strides[d - lead] : 0;
  }
  return s;
}

#ifdef __CUDACC__
__host__ __device__ inline int64_t strided_offset(int64_t i, const StridedIndex& s) {
  int64_t offset = 0;
  for (int d = s.rank - 1; d >= 0; --d) {
    offset += (i % s.dims[d]) * s.strides[d];
    i /= s.dims[d];
  }
  return offset;
}
#endif

}  // namespace qrt::cuda::kernels
