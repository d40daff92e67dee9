// AVX-512 forms of the checked row quantizers of quantized_support.h: the same IEEE operations in
// the same order per element, 16 at a time, so codes (and the symmetric scale) are bit-identical to
// the scalar definitions.
//   symmetric: max|x|, s = max/127, round_half_even(x / s), clamp to [-127, 127];
//   fixed:     round_half_even(x / scale) + zero_point, clamp to [qmin, qmax], minus offset.
#pragma once

#include <cstdint>

#include "ops/quantized/projection.h"

namespace qrt::ops::quantized {

// AVX-512 F/BW/VL on this CPU; call the functions below only when true.
bool quantize_row_avx512_available();

bool quantize_row_symmetric_avx512(const float* x, int64_t K, int8_t* q, float* scale,
                                   int64_t* bad_column);
bool quantize_row_fixed_avx512(const float* x, int64_t K, const ActivationQuant& a, int32_t offset,
                               int8_t* q, int64_t* bad_column);

}  // namespace qrt::ops::quantized
