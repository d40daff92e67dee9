// Device-side conversions between the element types the kernels read and write (f32, f16) and the
// f32 they compute in (device code only). f16 results round to nearest even (__float2half_rn), as
// PyTorch's .half() does.
#pragma once

#include <cuda_fp16.h>

#include <cstdint>

namespace qrt::cuda {

__device__ __forceinline__ float to_float(float v) {
  return v;
}
__device__ __forceinline__ float to_float(__half v) {
  return __half2float(v);
}

// y[i] = v in y's element type.
__device__ __forceinline__ void store(float* y, int64_t i, float v) {
  y[i] = v;
}
__device__ __forceinline__ void store(__half* y, int64_t i, float v) {
  y[i] = __float2half_rn(v);
}

}  // namespace qrt::cuda
