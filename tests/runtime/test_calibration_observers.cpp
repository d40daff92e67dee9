// Observers and clip thresholds (runtime/observers.h, runtime/observer_thresholds.h) on hand-made
// data and histograms whose answers are known: min/max, the moving-average arithmetic, histogram
// binning, percentile, MSE-optimal clipping and entropy (KL) calibration.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "runtime/observer_thresholds.h"
#include "runtime/observers.h"
#include "tests/support/random.h"

using namespace qrt;
using runtime::AbsHistogram;

namespace {

// Hand-computed EMA values in float vs the observer's double arithmetic rounded once to float.
constexpr float kEmaTolerance = 1e-6f;

// A histogram with `bins` bins of width 1/bins (abs_max 1) and the given counts per bin.
AbsHistogram unit_histogram(std::vector<double> counts) {
  const double width = 1.0 / static_cast<double>(counts.size());
  return AbsHistogram::from_counts(std::move(counts), width);
}

// The L2 error of int8 symmetric quantization with clip c on the histogram, written directly from
// docs/quantization.md §1 (q = clamp(round(x / s), -127, 127), s = c / 127) on the bin centres.
double l2_error(const AbsHistogram& h, double clip) {
  const double s = clip / 127.0;
  double e = 0.0;
  for (int j = 0; j < h.bins(); ++j) {
    const double x = (j + 0.5) * h.bin_width();
    const double q = std::clamp(std::nearbyint(x / s), -127.0, 127.0);
    e += h.counts()[static_cast<std::size_t>(j)] * (x - q * s) * (x - q * s);
  }
  return e;
}

}  // namespace

TEST_CASE("first_non_finite finds NaN and infinity, nothing in finite data") {
  std::vector<float> data = testing::random_floats(13, 5);
  CHECK_FALSE(runtime::first_non_finite(data).has_value());
  data[7] = std::numeric_limits<float>::quiet_NaN();
  REQUIRE(runtime::first_non_finite(data).has_value());
  CHECK(*runtime::first_non_finite(data) == 7);
  data[2] = -std::numeric_limits<float>::infinity();
  CHECK(*runtime::first_non_finite(data) == 2);
  CHECK_FALSE(runtime::first_non_finite({}).has_value());
}

TEST_CASE("MinMaxObserver: the extremes over all batches, empty batches ignored") {
  const uint64_t seed = 101;
  MESSAGE("seed " << seed);
  runtime::MinMaxObserver observer;
  CHECK(observer.empty());
  CHECK(observer.range().min == 0.0f);
  CHECK(observer.range().max == 0.0f);
  std::vector<float> all;
  int batch = 0;
  for (std::size_t n : {1u, 7u, 0u, 13u}) {
    const auto data = testing::random_floats(n, seed + batch++, -3.0f, 2.0f);
    observer.observe(data);
    all.insert(all.end(), data.begin(), data.end());
  }
  CHECK_FALSE(observer.empty());
  const auto [lo, hi] = std::minmax_element(all.begin(), all.end());
  CHECK(observer.range().min == *lo);
  CHECK(observer.range().max == *hi);
  CHECK(*hi - *lo > 1.0f);  // the data is spread: the check means something
  CHECK(observer.abs_max() == std::max(-*lo, *hi));
}

TEST_CASE("MovingAverageObserver: momentum arithmetic checked by hand") {
  runtime::MovingAverageObserver ema(0.9f);
  CHECK(ema.range().min == 0.0f);
  const std::vector<float> b1{2.0f, -1.0f, 0.5f}, b2{-3.0f, 4.0f}, b3{0.5f, 1.0f, 0.75f};
  ema.observe(b1);  // the first batch sets the range: [-1, 2]
  CHECK(ema.range().min == -1.0f);
  CHECK(ema.range().max == 2.0f);
  ema.observe({});  // ignored
  ema.observe(b2);  // min = 0.9·(-1) + 0.1·(-3) = -1.2, max = 0.9·2 + 0.1·4 = 2.2
  CHECK(ema.range().min == doctest::Approx(-1.2f).epsilon(kEmaTolerance));
  CHECK(ema.range().max == doctest::Approx(2.2f).epsilon(kEmaTolerance));
  ema.observe(b3);  // min = 0.9·(-1.2) + 0.1·0.5 = -1.03, max = 0.9·2.2 + 0.1·1 = 2.08
  CHECK(ema.range().min == doctest::Approx(-1.03f).epsilon(kEmaTolerance));
  CHECK(ema.range().max == doctest::Approx(2.08f).epsilon(kEmaTolerance));

  runtime::MovingAverageObserver last_only(0.0f);  // momentum 0: the last batch's range
  last_only.observe(b2);
  last_only.observe(b3);
  CHECK(last_only.range().min == 0.5f);
  CHECK(last_only.range().max == 1.0f);
}

TEST_CASE("AbsHistogram: |x| binned by width abs_max / bins, abs_max in the last bin") {
  AbsHistogram h(4, 2.0f);  // bins [0, 0.5), [0.5, 1), [1, 1.5), [1.5, 2]
  CHECK(h.bin_width() == 0.5);
  const std::vector<float> data{-0.1f, 0.4f, 0.5f, -1.9f, 2.0f, 1.0f, -2.0f};
  h.observe(data);
  CHECK(h.counts() == std::vector<double>{2, 1, 1, 3});
  CHECK(h.total() == 7.0);
}

TEST_CASE("percentile_threshold: the upper edge of the bin reaching the percentile") {
  const AbsHistogram h = AbsHistogram::from_counts({10, 20, 30, 40}, 1.0);
  CHECK(runtime::percentile_threshold(h, 10.0) == 1.0);
  CHECK(runtime::percentile_threshold(h, 30.0) == 2.0);
  CHECK(runtime::percentile_threshold(h, 31.0) == 3.0);
  CHECK(runtime::percentile_threshold(h, 100.0) == 4.0);
  // Empty bins at the top are not part of the 100th percentile.
  CHECK(runtime::percentile_threshold(AbsHistogram::from_counts({5, 5, 0, 0}, 0.25), 100.0) == 0.5);
  CHECK(runtime::percentile_threshold(AbsHistogram::from_counts({0, 0}, 1.0), 50.0) == 0.0);

  // Random data: within one bin width above the exact percentile of |x|.
  const uint64_t seed = 202;
  MESSAGE("seed " << seed);
  const auto data = testing::random_normal(20011, seed);
  std::vector<float> mags(data.size());
  std::transform(data.begin(), data.end(), mags.begin(), [](float x) { return std::fabs(x); });
  std::sort(mags.begin(), mags.end());
  AbsHistogram hist(2048, mags.back());
  hist.observe(data);
  const double t = runtime::percentile_threshold(hist, 99.0);
  const double exact = mags[static_cast<std::size_t>(std::ceil(0.99 * mags.size())) - 1];
  MESSAGE("99th percentile of |x|: " << exact << ", threshold " << t);
  CHECK(t >= exact);
  CHECK(t <= exact + hist.bin_width());
}

TEST_CASE("mse_threshold: keeps a uniform range, clips a rare far outlier") {
  // Uniform |x| on [0, 1): clipping costs (1 - c)^3 / 3 per unit mass, rounding gains little, so
  // the optimum lies just below the top, (1 - c)^2 ≈ c / 96774, i.e. c ≈ 0.997.
  const AbsHistogram uniform = unit_histogram(std::vector<double>(2048, 100.0));
  const double c_uniform = runtime::mse_threshold(uniform);
  MESSAGE("uniform: clip " << c_uniform);
  CHECK(c_uniform > 0.98);
  CHECK(c_uniform <= 1.0);

  // A bulk of 10^7 values in [0, 10/2048) and one value near 1: keeping the outlier makes the step
  // 1/127, which rounds most of the bulk to 0 (error ≈ 65); clipping near the bulk costs ≈ 1.
  std::vector<double> counts(2048, 0.0);
  for (int j = 0; j < 10; ++j) counts[static_cast<std::size_t>(j)] = 1e6;
  counts.back() = 1.0;
  const AbsHistogram outlier = unit_histogram(counts);
  const double c_outlier = runtime::mse_threshold(outlier);
  MESSAGE("outlier: clip " << c_outlier);
  CHECK(c_outlier < 0.1);
  CHECK(c_outlier >= 10.0 / 2048.0);
  // The choice is the minimum of the directly written error over every candidate edge.
  for (int i = 1; i <= 2048; i += 7)
    CHECK(l2_error(outlier, c_outlier) <= l2_error(outlier, i / 2048.0));
  CHECK(l2_error(uniform, c_uniform) <= l2_error(uniform, 1.0));
}

TEST_CASE("entropy_threshold: uniform data kept whole, a far outlier clipped") {
  // Identical counts: at i = bins, Q equals P exactly (KL = 0); every smaller i folds the tail into
  // one bin that Q spreads over its group (KL > 0). So nothing is clipped.
  const AbsHistogram uniform = unit_histogram(std::vector<double>(2048, 100.0));
  CHECK(runtime::entropy_threshold(uniform) == 1.0);

  // 20 full bins and one count at the top: from 128 to 255 bins each level is one bin, so Q equals
  // P but for the folded outlier and those candidates (nearly) tie; keeping the top merges 16 bins
  // per level and blurs the bulk's uneven counts.
  std::vector<double> counts(2048, 0.0);
  for (int j = 0; j < 20; ++j) counts[static_cast<std::size_t>(j)] = 1000.0 + 13.0 * j;
  counts.back() = 1.0;
  const double t = runtime::entropy_threshold(unit_histogram(counts));
  MESSAGE("outlier: threshold " << t);
  CHECK(t >= 128.0 / 2048.0);
  CHECK(t < 256.0 / 2048.0);

  // Fewer bins than levels: nothing to merge, the whole range is kept.
  CHECK(runtime::entropy_threshold(AbsHistogram::from_counts({1, 2, 3}, 0.5)) == 1.5);
}

TEST_CASE("entropy_threshold on normal data clips the far tail only") {
  const uint64_t seed = 303;
  MESSAGE("seed " << seed);
  const auto data = testing::random_normal(200003, seed);
  runtime::MinMaxObserver mm;
  mm.observe(data);
  AbsHistogram h(2048, mm.abs_max());
  h.observe(data);
  const double t = runtime::entropy_threshold(h);
  MESSAGE("max |x| " << mm.abs_max() << ", entropy threshold " << t);
  CHECK(t > 2.5);  // keeps the body of N(0, 1)
  CHECK(t < mm.abs_max());
}
