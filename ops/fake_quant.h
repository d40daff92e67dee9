// CPU reference kernel for FakeQuant (ir/ops.def; the quantization design notes, section 8), and
// the integer formula it applies, shared with tests and the QAT passes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>

#include "ir/op_kind.h"
#include "runtime/kernel.h"

namespace qrt::ops {

std::unique_ptr<runtime::Kernel> make_fake_quant_kernel();

// y = s·(clamp(round(x / s) + z, qmin, qmax) - z), evaluated exactly as ir::quantize_affine /
// ir::quantize_symmetric followed by ir::dequantize do (x / s in float, round half to even), so the
// result is bit-identical to that quantize -> dequantize round trip with the same s and z
// (z from ir::fake_quant_zero_point).
// `x` must be finite and `s` finite and > 0.
inline float fake_quant_value(float x, float s, int32_t z, ir::FakeQuantRange range) {
  const auto span = static_cast<float>(range.qmax - range.qmin);
  // Clamping the rounded quotient to ±(qmax - qmin) first keeps the int conversion defined and
  // changes nothing after the final clamp (as ir::quantize_affine does).
  const float r = std::clamp(std::nearbyint(x / s), -span, span);
  const int32_t code = std::clamp(static_cast<int32_t>(r) + z, range.qmin, range.qmax);
  return s * static_cast<float>(code - z);
}

}  // namespace qrt::ops
