// An int8 weight [N, K] (symmetric per output channel, ir/precision.h) made ready once, in
// prepare, for the packed VNNI GEMM (ops/int8_gemm.h): its codes in the PackedInt8Weights layout
// and its per-channel scales decoded and checked. The fast int8 projections (fast_int8_*.cpp) and
// the int8-static chain Linear all run gemm_s8s8_s32_packed on it.
#pragma once

#include <vector>

#include "ir/status.h"
#include "ops/int8_gemm.h"
#include "ops/quantized/projection.h"

namespace qrt::ops::quantized {

struct PackedInt8Weight {
  std::vector<float> scales;  // s_w[n], finite and > 0
  PackedInt8Weights codes;    // q[n, k] in the VNNI layout
};

// Checks spec.weight (a constant with one valid scale per output channel and N·K codes), naming
// the tensor at fault, and packs it.
Result<PackedInt8Weight> pack_int8_weight(const ProjectionSpec& spec);

}  // namespace qrt::ops::quantized
