// Error report between a tensor and its reconstruction (the quantization design notes, section 1).
#include "ir/quant_error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace qrt::ir {
namespace {

Status check_finite(std::span<const float> v, const char* which) {
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      return invalid_argument(std::string("quantization_error: ") + which + " element " +
                              std::to_string(i) + " is " + std::to_string(v[i]) +
                              " (values must be finite)");
  return Status::ok();
}

}  // namespace

Result<QuantizationError> quantization_error(std::span<const float> original,
                                             std::span<const float> reconstructed) {
  if (original.size() != reconstructed.size())
    return invalid_argument("quantization_error: original has " + std::to_string(original.size()) +
                            " elements, reconstructed has " + std::to_string(reconstructed.size()));
  if (original.empty()) return invalid_argument("quantization_error: empty input");
  QRT_RETURN_IF_ERROR(check_finite(original, "original"));
  QRT_RETURN_IF_ERROR(check_finite(reconstructed, "reconstructed"));

  // Sums in double: a 4096x4096 tensor has 16.7M terms, beyond what a float sum keeps exact.
  double max_abs_t = 0;
  for (float t : original) max_abs_t = std::max(max_abs_t, std::fabs(double(t)));
  const double relative_floor = 1e-3 * max_abs_t;  // ignore elements near 0 (ratio meaningless)

  QuantizationError e;
  double sum_abs_err = 0, signal = 0, noise = 0, dot = 0, recon_energy = 0;
  for (size_t i = 0; i < original.size(); ++i) {
    const double t = original[i];
    const double r = reconstructed[i];
    const double err = std::fabs(t - r);
    e.max_abs_error = std::max(e.max_abs_error, err);
    sum_abs_err += err;
    signal += t * t;
    noise += err * err;
    dot += t * r;
    recon_energy += r * r;
    if (std::fabs(t) >= relative_floor && t != 0.0)
      e.relative_error_pct = std::max(e.relative_error_pct, 100.0 * err / std::fabs(t));
  }
  e.mean_abs_error = sum_abs_err / static_cast<double>(original.size());
  // snr = 10·log10(Σt² / Σ(t - t̂)²): +inf when exact (also for an exactly reconstructed all-zero
  // tensor); -inf when the original is all zero but the reconstruction is not.
  e.snr_db =
      noise == 0.0 ? std::numeric_limits<double>::infinity() : 10.0 * std::log10(signal / noise);
  // cosine = <t, t̂> / (|t|·|t̂|); two all-zero vectors are identical (1), one all-zero vector has no
  // direction to agree with (0).
  if (signal == 0.0 && recon_energy == 0.0)
    e.cosine_similarity = 1.0;
  else if (signal == 0.0 || recon_energy == 0.0)
    e.cosine_similarity = 0.0;
  else
    e.cosine_similarity =
        std::clamp(dot / (std::sqrt(signal) * std::sqrt(recon_energy)), -1.0, 1.0);
  return e;
}

}  // namespace qrt::ir
