// AVX-512 form of quantize_row_symmetric_checked (quantized_support.h): the same IEEE operations
// in the same order per element (max|x|, s = max/127, round_half_even(x / s), clamp), 16 at a
// time, so codes and scale are bit-identical to the scalar definition.
#pragma once

#include <cstdint>

namespace qrt::ops::quantized {

bool quantize_row_symmetric_avx512_available();
// Only call when available.
bool quantize_row_symmetric_avx512(const float* x, int64_t K, int8_t* q, float* scale,
                                   int64_t* bad_column);

}  // namespace qrt::ops::quantized
