// Error between a tensor and its reconstruction (per layer and per model reports).
#pragma once

#include <span>

#include "ir/status.h"

namespace qrt::ir {

struct QuantizationError {
  double max_abs_error = 0;
  double mean_abs_error = 0;
  // Largest |t - t̂| / |t| over elements with |t| >= 1e-3·max|t|, in percent.
  double relative_error_pct = 0;
  // 10·log10(Σt² / Σ(t - t̂)²); +inf when exact.
  double snr_db = 0;
  double cosine_similarity = 0;
};

// Fails on size mismatch, empty input or non-finite values (naming which).
Result<QuantizationError> quantization_error(std::span<const float> original,
                                             std::span<const float> reconstructed);

}  // namespace qrt::ir
