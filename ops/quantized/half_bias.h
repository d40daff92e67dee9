// The bias of an FP16 / BF16 projection as its kernels read it (docs/quantization.md §6): a bias
// stored in the half type is a constant, decoded to f32 once in prepare; a bias stored in f32 (or
// no bias) is read from the run-time input. Shared by the reference kernel (linear_half.cpp) and
// the lane-packed AVX-512 one (fast_weight_only.cpp), so that both accept the same graphs.
#pragma once

#include <vector>

#include "ir/status.h"
#include "ops/quantized/projection.h"

namespace qrt::ops::quantized {

struct HalfBias {
  std::vector<float> decoded;  // [N]: the stored half bias decoded; empty when from_f32_input
  bool from_f32_input = true;  // no bias, or an f32 one read from the run-time input
};

// Fails, naming the node and the bias, when a half bias is not a constant or holds fewer than N
// values.
Result<HalfBias> decode_half_bias(const ProjectionSpec& spec, bool bf16);

}  // namespace qrt::ops::quantized
