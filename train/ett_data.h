// ETTh1 loading and the standard forecasting protocol (Informer, AAAI 2021; kept by LTSF-Linear):
// train rows [0, 8640), val [8640 - L, 11520), test [11520 - L, 14400); every column z-scored with
// the train split's mean and population standard deviation (ddof = 0); stride-1 windows of L
// look-back rows followed by H target rows, all 7 channels in and out. See
// samples/forecasting/data/README.md. The training engine's data loader (train/window_loader.h)
// and the forecasting sample share this code.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ir/status.h"

namespace qrt::train {

inline constexpr int kEttChannels = 7;
// The exact header line of ETTh1.csv; the date column is checked for presence only.
inline constexpr std::string_view kEttHeader = "date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT";
inline constexpr std::array<std::string_view, kEttChannels> kEttChannelNames = {
    "HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"};
inline constexpr int kOtChannel = 6;  // oil temperature, the usual target

// Split boundaries of ETTh (hourly) files, in data rows (header not counted).
inline constexpr int64_t kTrainEndRow = 8640;
inline constexpr int64_t kValEndRow = 11520;
inline constexpr int64_t kTestEndRow = 14400;

// The numeric columns of an ETT CSV file, row-major [rows, 7], as parsed (double, no rounding).
struct EttTable {
  int64_t rows = 0;
  std::vector<double> values;
  double at(int64_t row, int channel) const { return values[row * kEttChannels + channel]; }
};

// Parses CSV text. `source` names the input in error messages ("ETTh1.csv line 12: ...").
Result<EttTable> parse_ett_csv(std::string_view text, const std::string& source);
Result<EttTable> load_ett_csv(const std::string& path);

// Fails, naming `source`, when the table is shorter than the three splits together.
Status require_protocol_rows(const EttTable& table, const std::string& source);

struct ChannelStats {
  std::array<double, kEttChannels> mean{};
  std::array<double, kEttChannels> std{};  // population std (ddof = 0), as sklearn StandardScaler
};

// Mean and population std of rows [0, train_rows) per column; fails when the table is shorter or a
// column is constant (a zero std cannot z-score).
Result<ChannelStats> train_statistics(const EttTable& table, int64_t train_rows = kTrainEndRow);

enum class EttSplit { kTrain, kVal, kTest };
const char* split_name(EttSplit split);

// The z-scored rows of one split (including the L rows borrowed from the previous split) and its
// stride-1 windows: window i has inputs rows [i, i + L) and targets rows [i + L, i + L + H).
class WindowedSeries {
 public:
  // Fails when the table has too few rows for the split or L/H leave no window.
  static Result<WindowedSeries> make(const EttTable& table, const ChannelStats& stats,
                                     EttSplit split, int64_t lookback, int64_t horizon);
  // Windows over rows that are already normalised ([rows, 7] row-major), e.g. a synthetic series;
  // fails when `values` is not a whole number of rows or L/H leave no window.
  static Result<WindowedSeries> from_normalized_rows(std::vector<float> values, int64_t lookback,
                                                     int64_t horizon);

  int64_t lookback() const { return lookback_; }
  int64_t horizon() const { return horizon_; }
  // Every window, stride 1, none dropped: rows - L - H + 1.
  int64_t window_count() const { return rows_ - lookback_ - horizon_ + 1; }
  // [L, 7] z-scored inputs of window `index`, row-major.
  const float* input(int64_t index) const { return &values_[index * kEttChannels]; }
  // [H, 7] z-scored targets of window `index`, row-major.
  const float* target(int64_t index) const { return &values_[(index + lookback_) * kEttChannels]; }

 private:
  int64_t lookback_ = 0;
  int64_t horizon_ = 0;
  int64_t rows_ = 0;
  std::vector<float> values_;  // [rows, 7]
};

// An ETT file ready for training and evaluation: the three splits' windows, all z-scored with the
// train split's statistics.
struct EttSplits {
  ChannelStats stats;  // of the train rows; maps z-scores back to the data's units
  WindowedSeries train;
  WindowedSeries val;
  WindowedSeries test;
};

// Loads the ETT CSV at `path`, requires the protocol's rows, and windows the train, val and test
// splits with look-back L and horizon H: the data preparation every program on the protocol
// (`qrt finetune`, the forecasting sample's programs) shares.
Result<EttSplits> load_ett_splits(const std::string& path, int64_t lookback, int64_t horizon);

}  // namespace qrt::train
