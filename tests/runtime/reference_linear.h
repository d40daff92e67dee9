// An independent reference for Linear in double: y[r, o] = b[o] + sum_k x[r, k] * w[o, k]
// (PyTorch's nn.Linear with weight of shape [out, in]), for checking the float kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qrt::testing {

inline std::vector<double> reference_linear(const std::vector<double>& x,
                                            const std::vector<float>& w,
                                            const std::vector<float>& b, int64_t in, int64_t out) {
  const int64_t rows = static_cast<int64_t>(x.size()) / in;
  std::vector<double> y(static_cast<std::size_t>(rows * out));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double acc = b[o];
      for (int64_t k = 0; k < in; ++k) acc += x[r * in + k] * double(w[o * in + k]);
      y[r * out + o] = acc;
    }
  return y;
}

}  // namespace qrt::testing
