// The forecasting window loader: every window once per epoch, batches holding the right rows, a
// seeded order that is reproducible and changes per epoch, and bad input rejected with a Status.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "train/shuffle.h"
#include "train/window_loader.h"

namespace qrt::train {
namespace {

// A series whose value encodes its position: row r, channel c holds r + c / 10.
std::vector<float> position_series(int64_t rows) {
  std::vector<float> v(static_cast<std::size_t>(rows) * kEttChannels);
  for (int64_t r = 0; r < rows; ++r)
    for (int c = 0; c < kEttChannels; ++c)
      v[static_cast<std::size_t>(r * kEttChannels + c)] = static_cast<float>(r) + c / 10.0f;
  return v;
}

TEST_CASE("batches cover every window once with its look-back and target rows") {
  constexpr int64_t kRows = 53, kLookback = 5, kHorizon = 3,
                    kBatch = 7;  // primes: short last batch
  auto series = WindowedSeries::from_normalized_rows(position_series(kRows), kLookback, kHorizon);
  REQUIRE(series.is_ok());
  CHECK(series->window_count() == kRows - kLookback - kHorizon + 1);
  constexpr uint64_t kSeed = 17;
  MESSAGE("seed " << kSeed);
  auto loader = WindowLoader::make(*series, kBatch, true, kSeed);
  REQUIRE(loader.is_ok());
  loader->start_epoch();
  CHECK(loader->batch_count() == (series->window_count() + kBatch - 1) / kBatch);
  std::vector<int64_t> seen;
  runtime::Tensor x, y;
  for (int64_t b = 0; b < loader->batch_count(); ++b) {
    REQUIRE(loader->load(b, x, y).is_ok());
    const int64_t rows = x.shape()[0];
    CHECK(rows == loader->batch_rows(b));
    CHECK(x.shape() == ir::Shape{rows, kLookback, kEttChannels});
    CHECK(y.shape() == ir::Shape{rows, kHorizon, kEttChannels});
    const auto xd = x.span<float>();
    const auto yd = y.span<float>();
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t window = static_cast<int64_t>(xd[r * kLookback * kEttChannels]);
      seen.push_back(window);
      for (int64_t t = 0; t < kLookback; ++t)
        CHECK(xd[(r * kLookback + t) * kEttChannels + 3] == static_cast<float>(window + t) + 0.3f);
      for (int64_t t = 0; t < kHorizon; ++t)
        CHECK(yd[(r * kHorizon + t) * kEttChannels + 6] ==
              static_cast<float>(window + kLookback + t) + 0.6f);
    }
  }
  CHECK(x.shape()[0] == series->window_count() % kBatch);  // no drop_last
  std::vector<int64_t> sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> all(static_cast<std::size_t>(series->window_count()));
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
  CHECK(sorted == all);
  CHECK(seen != all);  // shuffled
}

TEST_CASE("the order is fixed by the seed and differs between epochs") {
  auto series = WindowedSeries::from_normalized_rows(position_series(200), 4, 2);
  REQUIRE(series.is_ok());
  auto a = WindowLoader::make(*series, 8, true, 2021);
  auto b = WindowLoader::make(*series, 8, true, 2021);
  auto c = WindowLoader::make(*series, 8, true, 2022);
  REQUIRE((a.is_ok() && b.is_ok() && c.is_ok()));
  a->start_epoch();
  b->start_epoch();
  c->start_epoch();
  CHECK(a->order() == b->order());
  CHECK(a->order() != c->order());
  const std::vector<int64_t> first = a->order();
  a->start_epoch();
  b->start_epoch();
  CHECK(a->order() == b->order());
  CHECK(a->order() != first);

  auto plain = WindowLoader::make(*series, 8, false, 2021);
  REQUIRE(plain.is_ok());
  plain->start_epoch();
  CHECK(std::is_sorted(plain->order().begin(), plain->order().end()));
}

TEST_CASE("uniform_below is unbiased enough and in range") {
  std::mt19937_64 rng(5);
  std::vector<int> counts(3, 0);
  for (int i = 0; i < 30000; ++i) ++counts[uniform_below(rng, 3)];
  for (int n : counts) CHECK(std::abs(n - 10000) < 500);  // ~5 σ of a binomial(30000, 1/3)
  CHECK(uniform_below(rng, 1) == 0);
}

TEST_CASE("bad data is a Status, not a crash") {
  // Not a whole number of 7-channel rows.
  CHECK_FALSE(WindowedSeries::from_normalized_rows(std::vector<float>(10, 0.0f), 2, 1).is_ok());
  // Empty data set: no window fits.
  const Status empty = WindowedSeries::from_normalized_rows({}, 2, 1).status();
  CHECK_FALSE(empty.is_ok());
  MESSAGE(empty.message());
  CHECK_FALSE(WindowedSeries::from_normalized_rows(position_series(5), 4, 2).is_ok());
  CHECK_FALSE(WindowedSeries::from_normalized_rows(position_series(50), 0, 2).is_ok());

  auto series = WindowedSeries::from_normalized_rows(position_series(20), 4, 2);
  REQUIRE(series.is_ok());
  CHECK_FALSE(WindowLoader::make(*series, 0, true, 1).is_ok());
  auto loader = WindowLoader::make(*series, 4, true, 1);
  REQUIRE(loader.is_ok());
  loader->start_epoch();
  runtime::Tensor x, y;
  CHECK_FALSE(loader->load(loader->batch_count(), x, y).is_ok());
  CHECK_FALSE(loader->load(-1, x, y).is_ok());

  // A CSV with a short row.
  const std::string csv = std::string(kEttHeader) + "\n2016-07-01 00:00:00,1,2,3,4,5,6\n";
  const Status short_row = parse_ett_csv(csv, "bad.csv").status();
  CHECK_FALSE(short_row.is_ok());
  CHECK(short_row.message().find("bad.csv line 2") != std::string::npos);
}

}  // namespace
}  // namespace qrt::train
