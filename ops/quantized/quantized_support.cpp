#include "ops/quantized/quantized_support.h"

#include <algorithm>
#include <cmath>

#include "ops/kernel_support.h"
#include "ops/quantized/quantize_row_avx512.h"

namespace qrt::ops::quantized {

namespace {

constexpr int32_t kInt8Max = 127;

}  // namespace

Status require_constant(const ir::Node& node, const std::string& what, const ir::Value& v) {
  if (v.is_constant()) return Status::ok();
  return node_error(node, what + " '" + v.name + "' must be a constant (a stored weight)");
}

std::vector<int32_t> int8_weight_row_sums(const int8_t* q, int64_t N, int64_t K) {
  std::vector<int32_t> sums(static_cast<std::size_t>(N), 0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) sums[static_cast<std::size_t>(n)] += q[n * K + k];
  return sums;
}

float quantize_row_symmetric(const float* x, int64_t K, int8_t* q) {
  float max_abs = 0.0f;
  for (int64_t k = 0; k < K; ++k) max_abs = std::max(max_abs, std::fabs(x[k]));
  const float s = symmetric_row_scale(max_abs);
  for (int64_t k = 0; k < K; ++k) {
    const float r = std::nearbyint(x[k] / s);
    q[k] = static_cast<int8_t>(
        std::clamp(r, -static_cast<float>(kInt8Max), static_cast<float>(kInt8Max)));
  }
  return s;
}

bool quantize_row_symmetric_checked(const float* x, int64_t K, int8_t* q, float* scale,
                                    int64_t* bad_column) {
  if (quantize_row_avx512_available())
    return quantize_row_symmetric_avx512(x, K, q, scale, bad_column);
  for (int64_t k = 0; k < K; ++k) {
    if (!std::isfinite(x[k])) {
      *bad_column = k;
      return false;
    }
  }
  *scale = quantize_row_symmetric(x, K, q);
  return true;
}

Status nonfinite_activation_error(const std::string& node_label, ir::Precision precision,
                                  const std::string& input, float value, int64_t row,
                                  int64_t column) {
  const std::string what = std::isnan(value) ? "NaN" : (value > 0 ? "+inf" : "-inf");
  return invalid_argument(node_label + ir::precision_name(precision) + " " + input + " has " +
                          what + " at row " + std::to_string(row) + ", column " +
                          std::to_string(column) +
                          " (non-finite values cannot be quantized to int8)");
}

Status check_finite_activations(const std::string& node_label, ir::Precision precision,
                                const std::string& input, const float* x, int64_t rows, int64_t ldx,
                                int64_t K, RowNumbering numbering) {
  for (int64_t m = 0; m < rows; ++m)
    for (int64_t k = 0; k < K; ++k)
      if (!std::isfinite(x[m * ldx + k]))
        return nonfinite_activation_error(node_label, precision, input, x[m * ldx + k],
                                          numbering(m), k);
  return Status::ok();
}

void quantize_row_fixed(const float* x, int64_t K, const ActivationQuant& a, int32_t offset,
                        int8_t* q) {
  const auto lo = static_cast<float>(a.qmin), hi = static_cast<float>(a.qmax);
  const auto z = static_cast<float>(a.zero_point);
  for (int64_t k = 0; k < K; ++k) {
    // Clamping in float first keeps huge |x| / scale away from an out-of-range int conversion;
    // NaN (which clamp passes through) takes the zero point so the conversion stays defined.
    const float r = std::nearbyint(x[k] / a.scale) + z;
    const float code = std::isnan(r) ? z : std::clamp(r, lo, hi);
    q[k] = static_cast<int8_t>(static_cast<int32_t>(code) - offset);
  }
}

bool quantize_row_fixed_checked(const float* x, int64_t K, const ActivationQuant& a, int32_t offset,
                                int8_t* q, int64_t* bad_column) {
  if (quantize_row_avx512_available())
    return quantize_row_fixed_avx512(x, K, a, offset, q, bad_column);
  for (int64_t k = 0; k < K; ++k) {
    if (!std::isfinite(x[k])) {
      *bad_column = k;
      return false;
    }
  }
  quantize_row_fixed(x, K, a, offset, q);
  return true;
}

}  // namespace qrt::ops::quantized
