// A one-line progress bar for calibration on stderr. Silent unless enabled and stderr is a
// terminal, so logs and pipes never see carriage returns.
#pragma once

#include <cstddef>

namespace qrt::runtime {

class CalibrationProgress {
 public:
  // `total` steps; shown only when `enabled` and stderr is a terminal (isatty).
  CalibrationProgress(bool enabled, std::size_t total);
  ~CalibrationProgress();  // ends the line if anything was drawn
  CalibrationProgress(const CalibrationProgress&) = delete;
  CalibrationProgress& operator=(const CalibrationProgress&) = delete;

  void advance();
  bool visible() const { return visible_; }

 private:
  void draw() const;
  bool visible_;
  std::size_t total_;
  std::size_t done_ = 0;
};

}  // namespace qrt::runtime
