#include "train/ett_data.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>

namespace qrt::train {
namespace {

// Up to 80 characters of `text` with control and non-ASCII bytes shown as '?', so that a binary
// file does not spill raw bytes into an error message.
std::string printable_prefix(std::string_view text) {
  std::string out(text.substr(0, 80));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return out;
}

std::string line_context(const std::string& source, int64_t line_number) {
  return source + " line " + std::to_string(line_number) + ": ";
}

// Parses one data line "date,v1,...,v7" into `out`, naming the line and field on failure.
Status parse_row(std::string_view line, const std::string& context, double* out) {
  std::size_t field_begin = line.find(',');
  if (field_begin == std::string_view::npos || field_begin == 0) {
    return invalid_argument(context + "expected a date followed by 7 values");
  }
  for (int channel = 0; channel < kEttChannels; ++channel) {
    const std::size_t begin = field_begin + 1;
    std::size_t end = line.find(',', begin);
    const bool last = channel == kEttChannels - 1;
    if (last != (end == std::string_view::npos)) {
      return invalid_argument(context + "expected 8 comma-separated fields");
    }
    if (last) end = line.size();
    const std::string_view field = line.substr(begin, end - begin);
    double value = 0.0;
    const auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
    if (field.empty() || ec != std::errc() || ptr != field.data() + field.size() ||
        !std::isfinite(value)) {
      return invalid_argument(context + "column " + std::string(kEttChannelNames[channel]) + " ('" +
                              printable_prefix(field) + "') is not a finite number");
    }
    out[channel] = value;
    field_begin = end;
  }
  return Status::ok();
}

}  // namespace

Result<EttTable> parse_ett_csv(std::string_view text, const std::string& source) {
  EttTable table;
  int64_t line_number = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // tolerate CRLF files
    if (line_number == 1) {
      if (line != kEttHeader) {
        return invalid_argument(line_context(source, 1) + "header is '" + printable_prefix(line) +
                                "', expected '" + std::string(kEttHeader) + "'");
      }
      continue;
    }
    if (line.empty()) {
      if (pos >= text.size()) break;  // the final newline
      return invalid_argument(line_context(source, line_number) + "empty line");
    }
    table.values.resize(table.values.size() + kEttChannels);
    QRT_RETURN_IF_ERROR(parse_row(line, line_context(source, line_number),
                                  &table.values[table.values.size() - kEttChannels]));
    ++table.rows;
  }
  if (line_number == 0) return invalid_argument(source + ": empty file, expected an ETT CSV");
  if (table.rows == 0) return invalid_argument(source + ": header only, no data rows");
  return table;
}

Result<EttTable> load_ett_csv(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return io_error("cannot open data file '" + path + "'");
  std::ostringstream buffer;
  buffer << file.rdbuf();
  if (file.bad()) return io_error("cannot read data file '" + path + "'");
  return parse_ett_csv(buffer.str(), path);
}

Status require_protocol_rows(const EttTable& table, const std::string& source) {
  if (table.rows < kTestEndRow) {
    return invalid_argument(source + " has " + std::to_string(table.rows) +
                            " data rows; the ETTh1 protocol needs at least " +
                            std::to_string(kTestEndRow) + " (train 8640, val 2880, test 2880)");
  }
  return Status::ok();
}

Result<ChannelStats> train_statistics(const EttTable& table, int64_t train_rows) {
  if (train_rows <= 0 || table.rows < train_rows) {
    return invalid_argument("train statistics need " + std::to_string(train_rows) +
                            " rows, the data has " + std::to_string(table.rows));
  }
  ChannelStats stats;
  for (int c = 0; c < kEttChannels; ++c) {
    // Two passes (mean, then mean squared deviation) avoid the cancellation of E[x²] - E[x]².
    double sum = 0.0;
    for (int64_t r = 0; r < train_rows; ++r) sum += table.at(r, c);
    const double mean = sum / static_cast<double>(train_rows);
    double squares = 0.0;
    for (int64_t r = 0; r < train_rows; ++r) {
      const double d = table.at(r, c) - mean;
      squares += d * d;
    }
    const double std = std::sqrt(squares / static_cast<double>(train_rows));
    if (!(std > 0.0)) {
      return invalid_argument("column " + std::string(kEttChannelNames[c]) +
                              " is constant over the train split; it cannot be z-scored");
    }
    stats.mean[c] = mean;
    stats.std[c] = std;
  }
  return stats;
}

const char* split_name(EttSplit split) {
  switch (split) {
    case EttSplit::kTrain:
      return "train";
    case EttSplit::kVal:
      return "val";
    case EttSplit::kTest:
      return "test";
  }
  return "?";
}

Result<WindowedSeries> WindowedSeries::make(const EttTable& table, const ChannelStats& stats,
                                            EttSplit split, int64_t lookback, int64_t horizon) {
  if (lookback < 1 || horizon < 1) {
    return invalid_argument("lookback and horizon must be >= 1 (got " + std::to_string(lookback) +
                            ", " + std::to_string(horizon) + ")");
  }
  int64_t begin = 0;
  int64_t end = kTrainEndRow;
  if (split == EttSplit::kVal) {
    begin = kTrainEndRow - lookback;
    end = kValEndRow;
  } else if (split == EttSplit::kTest) {
    begin = kValEndRow - lookback;
    end = kTestEndRow;
  }
  if (begin < 0) {
    return invalid_argument("lookback " + std::to_string(lookback) +
                            " reaches before the first row");
  }
  if (table.rows < end) {
    return invalid_argument("the " + std::string(split_name(split)) + " split needs " +
                            std::to_string(end) + " data rows, the data has " +
                            std::to_string(table.rows));
  }
  WindowedSeries series;
  series.lookback_ = lookback;
  series.horizon_ = horizon;
  series.rows_ = end - begin;
  if (series.window_count() < 1) {
    return invalid_argument("lookback " + std::to_string(lookback) + " + horizon " +
                            std::to_string(horizon) + " leave no window in the " +
                            split_name(split) + " split");
  }
  series.values_.resize(static_cast<std::size_t>(series.rows_) * kEttChannels);
  for (int64_t r = 0; r < series.rows_; ++r) {
    for (int c = 0; c < kEttChannels; ++c) {
      // z-score in double, then round once to float (the model's input precision).
      series.values_[r * kEttChannels + c] =
          static_cast<float>((table.at(begin + r, c) - stats.mean[c]) / stats.std[c]);
    }
  }
  return series;
}

Result<WindowedSeries> WindowedSeries::from_normalized_rows(std::vector<float> values,
                                                            int64_t lookback, int64_t horizon) {
  if (lookback < 1 || horizon < 1) {
    return invalid_argument("lookback and horizon must be >= 1 (got " + std::to_string(lookback) +
                            ", " + std::to_string(horizon) + ")");
  }
  if (values.size() % kEttChannels != 0) {
    return invalid_argument("series of " + std::to_string(values.size()) +
                            " values is not a whole number of rows of " +
                            std::to_string(kEttChannels) + " channels");
  }
  WindowedSeries series;
  series.lookback_ = lookback;
  series.horizon_ = horizon;
  series.rows_ = static_cast<int64_t>(values.size() / kEttChannels);
  if (series.window_count() < 1) {
    return invalid_argument("lookback " + std::to_string(lookback) + " + horizon " +
                            std::to_string(horizon) + " leave no window in a series of " +
                            std::to_string(series.rows_) + " rows");
  }
  series.values_ = std::move(values);
  return series;
}

Result<EttSplits> load_ett_splits(const std::string& path, int64_t lookback, int64_t horizon) {
  QRT_ASSIGN_OR_RETURN(const EttTable table, load_ett_csv(path));
  QRT_RETURN_IF_ERROR(require_protocol_rows(table, path));
  EttSplits splits;
  QRT_ASSIGN_OR_RETURN(splits.stats, train_statistics(table));
  QRT_ASSIGN_OR_RETURN(
      splits.train, WindowedSeries::make(table, splits.stats, EttSplit::kTrain, lookback, horizon));
  QRT_ASSIGN_OR_RETURN(
      splits.val, WindowedSeries::make(table, splits.stats, EttSplit::kVal, lookback, horizon));
  QRT_ASSIGN_OR_RETURN(
      splits.test, WindowedSeries::make(table, splits.stats, EttSplit::kTest, lookback, horizon));
  return splits;
}

}  // namespace qrt::train
