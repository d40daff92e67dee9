#include "runtime/observer_thresholds.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace qrt::runtime {

double percentile_threshold(const AbsHistogram& histogram, double percentile) {
  const std::vector<double>& counts = histogram.counts();
  const double total = histogram.total();
  if (total <= 0.0) return 0.0;
  const double target = std::clamp(percentile, 0.0, 100.0) / 100.0 * total;
  double cumulative = 0.0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    // A relative slack so that percentile = 100 stops at the last non-empty bin despite rounding.
    if (counts[i] > 0.0 && cumulative >= target * (1.0 - 1e-12))
      return static_cast<double>(i + 1) * histogram.bin_width();
  }
  return static_cast<double>(counts.size()) * histogram.bin_width();
}

double mse_threshold(const AbsHistogram& histogram) {
  const std::vector<double>& counts = histogram.counts();
  const double w = histogram.bin_width();
  double best_clip = static_cast<double>(counts.size()) * w;
  double best_error = std::numeric_limits<double>::infinity();
  for (std::size_t i = 1; i <= counts.size(); ++i) {
    const double clip = static_cast<double>(i) * w;
    const double scale = clip / kInt8MaxLevel;
    double error = 0.0;
    for (std::size_t j = 0; j < counts.size(); ++j) {
      if (counts[j] == 0.0) continue;
      const double x = (static_cast<double>(j) + 0.5) * w;
      const double level = std::min(std::nearbyint(x / scale), static_cast<double>(kInt8MaxLevel));
      const double diff = x - scale * level;
      error += counts[j] * diff * diff;
    }
    if (error < best_error) {
      best_error = error;
      best_clip = clip;
    }
  }
  return best_clip;
}

namespace {

// MXNet's _smooth_distribution: every zero entry gets `eps`, taken evenly from the non-zero ones.
// Returns false when that would make an entry non-positive (the candidate is then skipped).
bool smooth(std::vector<double>& p) {
  constexpr double kEps = 1e-4;
  std::size_t zeros = 0;
  for (double v : p) zeros += v == 0.0 ? 1 : 0;
  const std::size_t nonzeros = p.size() - zeros;
  if (nonzeros == 0) return false;
  const double taken = kEps * static_cast<double>(zeros) / static_cast<double>(nonzeros);
  for (double& v : p) {
    v = v == 0.0 ? kEps : v - taken;
    if (v <= 0.0) return false;
  }
  return true;
}

// KL(P‖Q) of two positive, unnormalised distributions of equal size.
double kl_divergence(const std::vector<double>& p, const std::vector<double>& q) {
  double p_sum = 0.0, q_sum = 0.0;
  for (std::size_t k = 0; k < p.size(); ++k) {
    p_sum += p[k];
    q_sum += q[k];
  }
  double kl = 0.0;
  for (std::size_t k = 0; k < p.size(); ++k) {
    const double pk = p[k] / p_sum, qk = q[k] / q_sum;
    kl += pk * std::log(pk / qk);
  }
  return kl;
}

}  // namespace

double entropy_threshold(const AbsHistogram& histogram) {
  const std::vector<double>& counts = histogram.counts();
  const std::size_t bins = counts.size();
  const double w = histogram.bin_width();
  if (bins < static_cast<std::size_t>(kEntropyLevels)) return static_cast<double>(bins) * w;

  // tail[i] = Σ counts[i..bins): what clipping at edge i folds into the last kept bin.
  std::vector<double> tail(bins + 1, 0.0);
  for (std::size_t i = bins; i-- > 0;) tail[i] = tail[i + 1] + counts[i];

  double best_clip = static_cast<double>(bins) * w;
  double best_kl = std::numeric_limits<double>::infinity();
  std::vector<double> p, q;
  for (std::size_t i = kEntropyLevels; i <= bins; ++i) {
    p.assign(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(i));
    p[i - 1] += tail[i];
    q.assign(i, 0.0);
    const std::size_t merged = i / kEntropyLevels;
    for (std::size_t group = 0; group < static_cast<std::size_t>(kEntropyLevels); ++group) {
      const std::size_t begin = group * merged;
      const std::size_t end = group + 1 == kEntropyLevels ? i : begin + merged;
      double sum = 0.0;
      std::size_t nonzero = 0;
      for (std::size_t k = begin; k < end; ++k) {
        sum += counts[k];
        nonzero += p[k] != 0.0 ? 1 : 0;
      }
      if (nonzero == 0) continue;
      for (std::size_t k = begin; k < end; ++k)
        if (p[k] != 0.0) q[k] = sum / static_cast<double>(nonzero);
    }
    if (!smooth(p) || !smooth(q)) continue;
    const double kl = kl_divergence(p, q);
    if (kl < best_kl) {
      best_kl = kl;
      best_clip = static_cast<double>(i) * w;
    }
  }
  return best_clip;
}

}  // namespace qrt::runtime
