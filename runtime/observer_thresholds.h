// Clip thresholds chosen from a histogram of |x| (runtime/observers.h): percentile, MSE-optimal
// and entropy (KL divergence). Each returns T > 0 such that the int8 range of the tensor is clipped
// to [-T, T]; docs/quantization.md §4. Pure functions, so each is tested on hand-made histograms.
#pragma once

#include "runtime/observers.h"

namespace qrt::runtime {

// Quantized magnitude levels of int8 symmetric: |q| in 0..127, and TensorRT's 128 levels.
inline constexpr int kInt8MaxLevel = 127;
inline constexpr int kEntropyLevels = 128;

// Upper edge of the first bin at which the cumulative count reaches `percentile`% of the total
// (0 < percentile <= 100), as pytorch-quantization's HistogramCalibrator does: the answer is
// within one bin width above the exact percentile of |x|. 0 for an empty histogram.
double percentile_threshold(const AbsHistogram& histogram, double percentile);

// The bin edge c = i·w (i = 1..bins) minimising the L2 error of int8 symmetric quantization with
// scale s = c / 127 over the histogram, each bin represented by its centre x_j:
//   E(c) = Σ_j count_j · (x_j − s·min(round(x_j / s), 127))².
// Clipped values cost (x − c)², values inside cost their rounding error. Ties go to the smaller c.
double mse_threshold(const AbsHistogram& histogram);

// TensorRT's entropy calibration (Migacz, "8-bit Inference with TensorRT", GTC 2017), with the
// smoothing of MXNet/TVM's implementation so that a candidate is never rejected for a single empty
// bin. For each i from 128 to bins:
//   P = counts[0..i), with the counts of all bins >= i added to P[i-1] (the clipped outliers);
//   Q = counts[0..i) merged into 128 groups of ⌊i/128⌋ bins (the last group takes the remainder),
//       each group's total spread evenly over the bins of the group where P is non-zero;
//   both smoothed (empty bins get 1e-4, taken evenly from the others), normalised, and
//   KL(P‖Q) = Σ P log(P / Q).
// Returns the edge i·w of the i with the smallest divergence (ties to the smaller i). With fewer
// than 128 bins, returns the upper edge of the last bin (no clipping).
double entropy_threshold(const AbsHistogram& histogram);

}  // namespace qrt::runtime
