// Fused int8 GEMM on tensor cores: y = epilogue(A·Bᵀ) with A int8 [M, K] (activations, row-major)
// and B int8 [N, K] (weights, row-major: the Linear layout, "TN"). The epilogue (epilogue.h) is
// data; the tile configurations and the can_implement / workspace_size queries are in
// tile_config.h. Plain C++ header: host code compiled by the C++ compiler includes it.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "cuda/gemm_int8/epilogue.h"
#include "cuda/gemm_int8/tile_config.h"
#include "ir/status.h"

namespace qrt::cuda::gemm_int8 {

// Enqueues y = epilogue(a·bᵀ) on `stream` (asynchronous). `a` [M, K], `b` [N, K] and `y` [M, N]
// (element type per epilogue.output) are contiguous row-major device arrays; `a` and `b` 16-byte
// aligned, `y` aligned to its element size. `config` is an index into kTileConfigs or kAutoConfig.
// `workspace` holds at least workspace_size(...) bytes (may be null when that is 0). Fails with
// kInvalidArgument (naming the argument) before touching the device when can_implement fails or a
// pointer is null or misaligned; kDeviceError for CUDA failures. M == 0 or N == 0 does nothing.
Status launch_gemm_int8(const int8_t* a, const int8_t* b, int64_t m, int64_t n, int64_t k,
                        const EpilogueSpec& epilogue, void* y, int config, void* workspace,
                        std::size_t workspace_bytes, cudaStream_t stream);

}  // namespace qrt::cuda::gemm_int8
