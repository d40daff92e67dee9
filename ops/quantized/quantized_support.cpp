#include "ops/quantized/quantized_support.h"

#include <algorithm>
#include <cmath>

#include "ops/kernel_support.h"
#include "ops/quantized/quantize_row_avx512.h"

namespace qrt::ops::quantized {

namespace {

constexpr int32_t kInt8Max = 127;
constexpr int32_t kUint8Max = 255;

bool has_scheme(const ir::Value& v, ir::QuantScheme scheme) {
  return v.quant.has_value() && v.quant->scheme == scheme;
}

bool unquantized(const ir::Value& v) {
  return !v.quant.has_value() || v.quant->scheme == ir::QuantScheme::kNone;
}

}  // namespace

std::optional<ir::Precision> node_precision(const ir::Node& node) {
  return ir::precision_from_name(node.precision.precision);
}

const ir::Value* value_of(const ir::Graph& graph, ir::ValueId id) {
  if (id < 0 || static_cast<std::size_t>(id) >= graph.values.size()) return nullptr;
  return &graph.values[static_cast<std::size_t>(id)];
}

bool is_plain_f32(const ir::Value& v) {
  return v.dtype == ir::DType::kF32 && unquantized(v);
}

bool weight_has_form(ir::Precision precision, const ir::Value& w) {
  if (w.shape.size() != 2 || !w.is_constant()) return false;
  switch (precision) {
    case ir::Precision::kFP16:
      return w.dtype == ir::DType::kF16 && unquantized(w);
    case ir::Precision::kBF16:
      return w.dtype == ir::DType::kBF16 && unquantized(w);
    case ir::Precision::kW8A16:
    case ir::Precision::kInt8Dynamic:
    case ir::Precision::kInt8Static:
      return w.dtype == ir::DType::kI8 && has_scheme(w, ir::QuantScheme::kSymmetricPerChannel) &&
             w.quant->axis == 0;
    case ir::Precision::kNF4:
      return w.dtype == ir::DType::kNF4 && has_scheme(w, ir::QuantScheme::kNF4Block);
    case ir::Precision::kFP32:
      return false;
  }
  return false;
}

bool bias_has_form(ir::Precision precision, const ir::Value* bias) {
  if (bias == nullptr || is_plain_f32(*bias)) return true;
  if (!unquantized(*bias) || !bias->is_constant()) return false;
  return (precision == ir::Precision::kFP16 && bias->dtype == ir::DType::kF16) ||
         (precision == ir::Precision::kBF16 && bias->dtype == ir::DType::kBF16);
}

bool activation_has_form(ir::Precision precision, const ir::Value& x) {
  if (precision != ir::Precision::kInt8Static) return is_plain_f32(x);
  return x.dtype == ir::DType::kF32 && (has_scheme(x, ir::QuantScheme::kSymmetricPerTensor) ||
                                        has_scheme(x, ir::QuantScheme::kAffinePerTensor));
}

Result<ActivationQuant> activation_quant_of(const ir::Node& node, const ir::Value& x) {
  const std::string what = "input '" + x.name + "'";
  if (!x.quant || x.quant->scales.size() != 1)
    return node_error(node, what + " has no per-tensor calibrated scale (int8-static)");
  const ir::QuantParams& q = *x.quant;
  ActivationQuant a;
  a.scale = q.scales[0];
  if (!std::isfinite(a.scale) || a.scale <= 0.0f)
    return node_error(node,
                      what + " has scale " + std::to_string(a.scale) + ", expected finite and > 0");
  if (q.scheme == ir::QuantScheme::kSymmetricPerTensor) return a;
  if (q.scheme != ir::QuantScheme::kAffinePerTensor || q.zero_points.size() != 1)
    return node_error(node, what + " has " + ir::quant_scheme_name(q.scheme) +
                                " parameters, expected per-tensor symmetric or affine");
  // The static pass stores affine activations in the uint8 range (ir/passes/passes.h).
  a.zero_point = q.zero_points[0];
  a.qmin = 0;
  a.qmax = kUint8Max;
  if (a.zero_point < a.qmin || a.zero_point > a.qmax)
    return node_error(node, what + " has zero point " + std::to_string(a.zero_point) +
                                ", outside the uint8 range [0, 255]");
  return a;
}

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
  const float s = max_abs > 0.0f ? max_abs / static_cast<float>(kInt8Max) : 1.0f;
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
                                int64_t K) {
  for (int64_t m = 0; m < rows; ++m)
    for (int64_t k = 0; k < K; ++k)
      if (!std::isfinite(x[m * ldx + k]))
        return nonfinite_activation_error(node_label, precision, input, x[m * ldx + k], m, k);
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
