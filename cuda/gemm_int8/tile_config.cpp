// Host-side queries on the int8 GEMM's tile configurations (see tile_config.h).
#include "cuda/gemm_int8/tile_config.h"

#include <cmath>
#include <limits>
#include <string>

namespace qrt::cuda::gemm_int8 {

const char* gemm_output_name(GemmOutput output) {
  switch (output) {
    case GemmOutput::kS32:
      return "s32";
    case GemmOutput::kF32:
      return "f32";
    case GemmOutput::kF16:
      return "f16";
    case GemmOutput::kS8:
      return "s8";
  }
  return "unknown";
}

int64_t tile_count(int64_t m, int64_t n, int config) {
  if (config < 0 || config >= kNumTileConfigs) return 0;
  const TileConfig& c = kTileConfigs[config];
  return ((m + c.block_m - 1) / c.block_m) * ((n + c.block_n - 1) / c.block_n);
}

Status can_implement(int64_t m, int64_t n, int64_t k, int config, const EpilogueSpec& epilogue) {
  const std::string where = "gemm_int8 (M = " + std::to_string(m) + ", N = " + std::to_string(n) +
                            ", K = " + std::to_string(k) + "): ";
  if (config < 0 || config >= kNumTileConfigs) {
    return invalid_argument(where + "tile config " + std::to_string(config) +
                            " does not exist (0.." + std::to_string(kNumTileConfigs - 1) + ")");
  }
  if (m < 0 || n < 0 || k < 0) return invalid_argument(where + "negative dimension");
  if (k == 0) {
    return invalid_argument(where +
                            "K = 0: the product is empty; K must be a positive multiple of " +
                            std::to_string(kKAlignment));
  }
  if (k % kKAlignment != 0) {
    return invalid_argument(where + "K = " + std::to_string(k) + " is not a multiple of " +
                            std::to_string(kKAlignment) +
                            " (rows of A and B are read in 16-byte pieces; pad K with zeros)");
  }
  if (k > kMaxK) {
    return invalid_argument(where + "K = " + std::to_string(k) + " exceeds " +
                            std::to_string(kMaxK) + ": int32 accumulation could overflow");
  }
  // Element offsets are computed in 64 bits, but the tile index lives in a 1-D grid (< 2^31
  // blocks).
  if (m > 0 && n > 0 && tile_count(m, n, config) > std::numeric_limits<int32_t>::max()) {
    return invalid_argument(where + "too many output tiles for config " +
                            kTileConfigs[config].name);
  }
  const int raw_output = static_cast<int>(epilogue.output);
  if (raw_output < static_cast<int>(GemmOutput::kS32) ||
      raw_output > static_cast<int>(GemmOutput::kS8)) {
    return invalid_argument(where + "unknown output kind " + std::to_string(raw_output));
  }
  if (epilogue.output == GemmOutput::kS32 && has_float_epilogue(epilogue)) {
    return invalid_argument(where +
                            "s32 output returns raw accumulators: scales, addend, bias and "
                            "activation would be ignored (ask for f32/f16/s8 output)");
  }
  if (epilogue.has_activation) {
    const int raw_activation = static_cast<int>(epilogue.activation);
    if (raw_activation < 0 || raw_activation >= kNumActivationKinds) {
      return invalid_argument(where + "unknown activation kind " + std::to_string(raw_activation));
    }
  }
  if (epilogue.output == GemmOutput::kS8 &&
      !(std::isfinite(epilogue.output_scale) && epilogue.output_scale > 0.0f)) {
    return invalid_argument(where + "s8 output needs a finite output_scale > 0, got " +
                            std::to_string(epilogue.output_scale));
  }
  return Status::ok();
}

std::size_t workspace_size(int64_t /*m*/, int64_t /*n*/, int64_t /*k*/, int /*config*/) {
  return 0;
}

int select_tile_config(int64_t m, int64_t n, int64_t /*k*/, int multiprocessor_count) {
  const int64_t wave = multiprocessor_count > 0 ? multiprocessor_count : 1;
  for (int config = 0; config < kNumTileConfigs; ++config) {
    if (tile_count(m, n, config) >= wave) return config;
  }
  return kNumTileConfigs - 1;
}

}  // namespace qrt::cuda::gemm_int8
