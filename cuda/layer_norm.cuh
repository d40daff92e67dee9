// LayerNorm over the last dimension on the GPU (PyTorch nn.LayerNorm with normalized_shape = [D];
// the CPU reference is ops/layer_norm.cpp), optionally fused with the activation that follows it
// and / or with the dynamic per-row int8 quantization that feeds an int8 GEMM:
//   mean = Σ_d x[d] / D,   var = Σ_d (x[d] - mean)² / D   (biased, two passes, as the reference)
//   v[d] = (x[d] - mean) / √(var + eps) · gamma[d] + beta[d]     (gamma = 1, beta = 0 when absent)
//   v[d] = act(v[d])                                  (when fused; formulas in cuda/activation.cuh)
//   y[d] = v[d] in the output dtype (f32, or f16 rounded to nearest even)
//   s    = max_d |v[d]| / 127 (1 for an all-zero row),  q[d] = clamp(round_half_even(v[d] / s),
//          -127, 127)   (ir::quantize_symmetric per row, cuda/quantize_rows.cuh; from the f32 v)
// Statistics are accumulated in f32 (the reference uses double): the difference is a few f32 ulps
// of the result for realistic D.
//
// Plain C++ header (no CUDA keywords).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "cuda/activation.cuh"
#include "ir/dtype.h"
#include "ir/status.h"

namespace qrt::cuda {

struct LayerNormArgs {
  int64_t rows = 0;                     // product of the leading dims; 0 does nothing
  int64_t cols = 0;                     // D >= 1
  float eps = 1e-5f;                    // finite, >= 0
  ir::DType x_dtype = ir::DType::kF32;  // kF32 or kF16
  const void* x = nullptr;              // [rows, cols]
  const float* gamma = nullptr;         // [cols] or null
  const float* beta = nullptr;          // [cols] or null
  bool fuse_activation = false;
  ActivationKind activation = ActivationKind::kRelu;
  float activation_param = 0.0f;  // LeakyReLU's negative slope
  // Outputs; at least one of y and q. y may not overlap x (each row is read several times).
  ir::DType y_dtype = ir::DType::kF32;  // kF32 or kF16
  void* y = nullptr;                    // [rows, cols] or null
  int8_t* q = nullptr;                  // [rows, cols] int8 codes or null
  float* q_scales = nullptr;            // [rows], required with q
};

// Enqueues the fused LayerNorm on `stream` (asynchronous). Invalid arguments give kInvalidArgument
// naming the argument; launch failures kDeviceError.
Status launch_layer_norm(const LayerNormArgs& args, cudaStream_t stream);

}  // namespace qrt::cuda
