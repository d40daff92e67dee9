// Symmetric and affine integer quantization (the quantization design notes, section 1).
#include "ir/quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "ir/quantize_internal.h"

namespace qrt::ir {
namespace {

using quantize_internal::validate_view;

// Element i belongs to slice (i / inner) % count. One formula covers every granularity:
//   per tensor   inner = numel, count = 1
//   per channel  inner = product of the dims after `axis`, count = shape[axis]
//   per row      inner = last dim, count = numel / last dim
//   per block    inner = block_size, count = numel / block_size (a block never straddles two rows
//                because block_size divides the last dim)
struct SliceLayout {
  int64_t count = 1;  // number of slices (= scales)
  int64_t inner = 1;
  // Calls fn(slice, begin, end) for each run of `inner` consecutive elements of one slice, in
  // memory order (element i lies in slice (i / inner) % count).
  template <typename Fn>
  void for_each_run(int64_t n, Fn&& fn) const {
    for (int64_t outer = 0; outer < n; outer += inner * count)
      for (int64_t c = 0; c < count; ++c) fn(c, outer + c * inner, outer + (c + 1) * inner);
  }
};

Status validate_bits(int bits, const std::string& what) {
  if (bits < 2 || bits > 8)
    return invalid_argument(what + ": bits " + std::to_string(bits) + " outside 2..8");
  return Status::ok();
}

// Builds the slice layout of `spec` on `shape` (numel > 0) and fills the layout fields of `params`.
// Integer per-block and per-row results reuse the per-channel schemes: per row is per channel on
// axis rank-2 of a matrix (one scale per row); per block has no scheme of its own on disk, so
// QuantizedTensor::granularity and QuantParams::block_size say how to read the scales.
Result<SliceLayout> make_layout(const Shape& shape, const QuantizeSpec& spec, bool affine,
                                QuantParams& params, const std::string& what) {
  const int64_t n = numel(shape);
  const int rank = static_cast<int>(shape.size());
  const QuantScheme per_tensor =
      affine ? QuantScheme::kAffinePerTensor : QuantScheme::kSymmetricPerTensor;
  const QuantScheme per_channel =
      affine ? QuantScheme::kAffinePerChannel : QuantScheme::kSymmetricPerChannel;
  SliceLayout layout;
  switch (spec.granularity) {
    case Granularity::kPerTensor:
      params.scheme = per_tensor;
      layout.count = 1;
      layout.inner = n;
      return layout;
    case Granularity::kPerChannel: {
      if (spec.axis < -rank || spec.axis >= rank)
        return invalid_argument(what + ": axis " + std::to_string(spec.axis) +
                                " out of range for shape " + shape_to_string(shape));
      const int axis = spec.axis < 0 ? spec.axis + rank : spec.axis;
      int64_t inner = 1;
      for (int d = axis + 1; d < rank; ++d) inner *= shape[static_cast<size_t>(d)];
      params.scheme = per_channel;
      params.axis = axis;
      layout.count = shape[static_cast<size_t>(axis)];
      layout.inner = inner;
      return layout;
    }
    case Granularity::kPerRow: {
      if (rank < 1)
        return invalid_argument(what + ": per-row quantization needs at least 1 dim, got a scalar");
      params.scheme = per_channel;
      params.axis = std::max(rank - 2, 0);
      layout.inner = shape.back();
      layout.count = n / layout.inner;
      return layout;
    }
    case Granularity::kPerBlock: {
      if (rank < 1)
        return invalid_argument(what +
                                ": per-block quantization needs at least 1 dim, got a scalar");
      if (spec.block_size <= 0 || shape.back() % spec.block_size != 0)
        return invalid_argument(what + ": block size " + std::to_string(spec.block_size) +
                                " must be > 0 and divide the last dim " +
                                std::to_string(shape.back()) + " of " + shape_to_string(shape));
      params.scheme = per_channel;
      params.axis = rank - 1;
      params.block_size = spec.block_size;
      layout.inner = spec.block_size;
      layout.count = n / spec.block_size;
      return layout;
    }
  }
  return invalid_argument(what + ": unknown granularity " +
                          std::to_string(static_cast<int>(spec.granularity)));
}

// A scale that underflowed to 0 (a slice of denormals) would divide by zero; the smallest positive
// float keeps every code finite (|t| / s stays within the code range).
float positive_scale(double s) {
  const float f = static_cast<float>(s);
  return f > 0.0f ? f : std::numeric_limits<float>::denorm_min();
}

// round-half-to-even(x) clamped to [lo, hi]; the clamp happens in float so that the conversion to
// int32 is always defined.
int32_t round_clamp(float x, int32_t lo, int32_t hi) {
  const float r = std::nearbyint(x);
  return static_cast<int32_t>(std::clamp(r, static_cast<float>(lo), static_cast<float>(hi)));
}

// The first steps of every quantizer: validate the input and the bit width, copy shape, bits and
// granularity into the result, and lay out the slices (which fills the layout fields of params).
struct QuantizeStart {
  QuantizedTensor q;
  SliceLayout layout;
};

Result<QuantizeStart> start_quantize(const FloatTensorView& t, const QuantizeSpec& spec,
                                     bool affine, const std::string& what) {
  QRT_RETURN_IF_ERROR(validate_view(t, what));
  QRT_RETURN_IF_ERROR(validate_bits(spec.bits, what));
  QuantizeStart start;
  start.q.shape = t.shape;
  start.q.bits = spec.bits;
  start.q.granularity = spec.granularity;
  QRT_ASSIGN_OR_RETURN(start.layout, make_layout(t.shape, spec, affine, start.q.params, what));
  return start;
}

}  // namespace

Result<QuantizedTensor> quantize_symmetric(const FloatTensorView& t, const QuantizeSpec& spec) {
  QRT_ASSIGN_OR_RETURN(QuantizeStart start,
                       start_quantize(t, spec, /*affine=*/false, "quantize_symmetric"));
  QuantizedTensor& q = start.q;
  const SliceLayout& layout = start.layout;
  const int64_t n = static_cast<int64_t>(t.data.size());
  std::vector<float> absmax(static_cast<size_t>(layout.count), 0.0f);
  layout.for_each_run(n, [&](int64_t c, int64_t begin, int64_t end) {
    float m = absmax[static_cast<size_t>(c)];
    for (int64_t i = begin; i < end; ++i)
      m = std::max(m, std::fabs(t.data[static_cast<size_t>(i)]));
    absmax[static_cast<size_t>(c)] = m;
  });
  // qmax = 2^(b-1) - 1, s = max|t| / qmax; an all-zero slice gets s = 1.
  const int32_t qmax = (1 << (spec.bits - 1)) - 1;
  q.params.scales.resize(absmax.size());
  for (size_t c = 0; c < absmax.size(); ++c)
    q.params.scales[c] = absmax[c] == 0.0f ? 1.0f : positive_scale(double(absmax[c]) / qmax);
  q.codes.resize(static_cast<size_t>(n));
  layout.for_each_run(n, [&](int64_t c, int64_t begin, int64_t end) {
    const float s = q.params.scales[static_cast<size_t>(c)];
    for (int64_t i = begin; i < end; ++i)
      q.codes[static_cast<size_t>(i)] =
          round_clamp(t.data[static_cast<size_t>(i)] / s, -qmax, qmax);
  });
  return std::move(q);
}

Result<QuantizedTensor> quantize_affine(const FloatTensorView& t, const QuantizeSpec& spec,
                                        bool unsigned_range) {
  QRT_ASSIGN_OR_RETURN(QuantizeStart start,
                       start_quantize(t, spec, /*affine=*/true, "quantize_affine"));
  QuantizedTensor& q = start.q;
  const SliceLayout& layout = start.layout;
  const int64_t n = static_cast<int64_t>(t.data.size());
  // The observed range starts at [0, 0]: widening it to include 0 makes 0 exactly representable
  // (it maps to the zero point).
  std::vector<float> lo(static_cast<size_t>(layout.count), 0.0f);
  std::vector<float> hi(static_cast<size_t>(layout.count), 0.0f);
  layout.for_each_run(n, [&](int64_t c, int64_t begin, int64_t end) {
    float l = lo[static_cast<size_t>(c)], h = hi[static_cast<size_t>(c)];
    for (int64_t i = begin; i < end; ++i) {
      l = std::min(l, t.data[static_cast<size_t>(i)]);
      h = std::max(h, t.data[static_cast<size_t>(i)]);
    }
    lo[static_cast<size_t>(c)] = l;
    hi[static_cast<size_t>(c)] = h;
  });
  // uint8-style range [0, 2^b - 1] or int8-style [-2^(b-1), 2^(b-1) - 1].
  const int32_t qmin = unsigned_range ? 0 : -(1 << (spec.bits - 1));
  const int32_t qmax = unsigned_range ? (1 << spec.bits) - 1 : (1 << (spec.bits - 1)) - 1;
  q.params.scales.resize(lo.size());
  q.params.zero_points.resize(lo.size());
  for (size_t c = 0; c < lo.size(); ++c) {
    // s = (max - min) / (qmax - qmin) (in double: max - min may overflow float),
    // z = clamp(round(qmin - min / s), qmin, qmax).
    const float s =
        hi[c] == lo[c]
            ? 1.0f
            : positive_scale((double(hi[c]) - double(lo[c])) / static_cast<double>(qmax - qmin));
    q.params.scales[c] = s;
    q.params.zero_points[c] = round_clamp(static_cast<float>(qmin) - lo[c] / s, qmin, qmax);
  }
  q.codes.resize(static_cast<size_t>(n));
  layout.for_each_run(n, [&](int64_t c, int64_t begin, int64_t end) {
    const float s = q.params.scales[static_cast<size_t>(c)];
    const int32_t z = q.params.zero_points[static_cast<size_t>(c)];
    // q = clamp(round(t / s) + z, qmin, qmax); rounding first clamps to ±(qmax - qmin), which
    // changes nothing after the final clamp and keeps the sum far from int32 overflow.
    for (int64_t i = begin; i < end; ++i) {
      const int32_t r =
          round_clamp(t.data[static_cast<size_t>(i)] / s, -(qmax - qmin), qmax - qmin);
      q.codes[static_cast<size_t>(i)] = std::clamp(r + z, qmin, qmax);
    }
  });
  return std::move(q);
}

Result<std::vector<float>> dequantize(const QuantizedTensor& q) {
  const std::string what = "dequantize";
  QRT_RETURN_IF_ERROR(validate_bits(q.bits, what));
  for (int64_t d : q.shape)
    if (d < 0)
      return invalid_argument(what + ": shape " + shape_to_string(q.shape) +
                              " has a negative or dynamic dimension");
  QRT_ASSIGN_OR_RETURN(const int64_t n, checked_numel(q.shape));
  if (static_cast<uint64_t>(n) != q.codes.size())
    return invalid_argument(what + ": shape " + shape_to_string(q.shape) + " has " +
                            std::to_string(n) + " elements but there are " +
                            std::to_string(q.codes.size()) + " codes");
  if (n == 0) return invalid_argument(what + ": empty tensor " + shape_to_string(q.shape));
  const bool affine = q.params.scheme == QuantScheme::kAffinePerTensor ||
                      q.params.scheme == QuantScheme::kAffinePerChannel;
  QuantizeSpec spec;
  spec.bits = q.bits;
  spec.granularity = q.granularity;
  spec.axis = q.params.axis;
  spec.block_size = q.params.block_size;
  QuantParams layout_params;
  QRT_ASSIGN_OR_RETURN(const SliceLayout layout,
                       make_layout(q.shape, spec, affine, layout_params, what));
  if (layout_params.scheme != q.params.scheme)
    return invalid_argument(what + ": scheme " + quant_scheme_name(q.params.scheme) +
                            " does not match the granularity (expected " +
                            quant_scheme_name(layout_params.scheme) + ")");
  if (q.params.scales.size() != static_cast<uint64_t>(layout.count))
    return invalid_argument(what + ": " + std::to_string(q.params.scales.size()) +
                            " scales, expected " + std::to_string(layout.count) + " for shape " +
                            shape_to_string(q.shape));
  if (!q.params.zero_points.empty() && q.params.zero_points.size() != q.params.scales.size())
    return invalid_argument(what + ": " + std::to_string(q.params.zero_points.size()) +
                            " zero points for " + std::to_string(q.params.scales.size()) +
                            " scales");
  if (affine && q.params.zero_points.empty())
    return invalid_argument(what + ": affine scheme without zero points");
  for (size_t c = 0; c < q.params.scales.size(); ++c)
    if (!std::isfinite(q.params.scales[c]) || q.params.scales[c] <= 0.0f)
      return invalid_argument(what + ": scale " + std::to_string(c) + " is " +
                              std::to_string(q.params.scales[c]) + ", must be finite and > 0");
  std::vector<float> out(static_cast<size_t>(n));
  layout.for_each_run(n, [&](int64_t c, int64_t begin, int64_t end) {
    const float s = q.params.scales[static_cast<size_t>(c)];
    const int32_t z =
        q.params.zero_points.empty() ? 0 : q.params.zero_points[static_cast<size_t>(c)];
    for (int64_t i = begin; i < end; ++i)  // t̂ = s·(q - z)
      out[static_cast<size_t>(i)] = s * static_cast<float>(q.codes[static_cast<size_t>(i)] - z);
  });
  return out;
}

Result<Int8Weight> quantize_weight_per_channel(const FloatTensorView& w) {
  if (w.shape.size() != 2)
    return invalid_argument("quantize_weight_per_channel: weight shape " +
                            shape_to_string(w.shape) + " must be [N, K] (2 dims)");
  QuantizeSpec spec;
  spec.bits = 8;
  spec.granularity = Granularity::kPerChannel;
  spec.axis = 0;
  Result<QuantizedTensor> q = quantize_symmetric(w, spec);
  if (!q.is_ok()) return q.status().with_context("quantize_weight_per_channel");
  Int8Weight out;
  // Codes lie in [-127, 127]: the narrowing is exact.
  out.codes.assign(q->codes.begin(), q->codes.end());
  out.params = std::move(q->params);
  return out;
}

}  // namespace qrt::ir

namespace qrt::ir {
namespace {

template <typename T>
Result<std::vector<T>> narrow_codes(const QuantizedTensor& q, const char* what) {
  constexpr int32_t lo = std::numeric_limits<T>::min();
  constexpr int32_t hi = std::numeric_limits<T>::max();
  std::vector<T> out(q.codes.size());
  for (size_t i = 0; i < q.codes.size(); ++i) {
    if (q.codes[i] < lo || q.codes[i] > hi)
      return invalid_argument(std::string(what) + ": code " + std::to_string(q.codes[i]) +
                              " of element " + std::to_string(i) + " is outside [" +
                              std::to_string(lo) + ", " + std::to_string(hi) + "]");
    out[i] = static_cast<T>(q.codes[i]);
  }
  return out;
}

}  // namespace

Result<std::vector<int8_t>> to_int8(const QuantizedTensor& q) {
  return narrow_codes<int8_t>(q, "to_int8");
}
Result<std::vector<uint8_t>> to_uint8(const QuantizedTensor& q) {
  return narrow_codes<uint8_t>(q, "to_uint8");
}

}  // namespace qrt::ir
