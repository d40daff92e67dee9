// A one-line progress bar on stderr ("calibrating [#####     ] 45/135", "epoch 1/3 [##   ] 9/133
// loss 0.4123"), shared by calibration and training. Silent unless enabled and stderr is a
// terminal, so logs and pipes never see carriage returns.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace qrt::runtime {

class ProgressBar {
 public:
  // `total` steps; shown only when `enabled`, total > 0 and stderr is a terminal (isatty).
  ProgressBar(bool enabled, std::string label, int64_t total);
  ~ProgressBar();  // clears the line if anything was drawn, so the caller's next line starts clean
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // One more step done; `status` (e.g. "loss 0.4123") is shown after the counter.
  void advance(std::string_view status = {});
  bool visible() const { return visible_; }

 private:
  void draw(std::string_view status) const;
  bool visible_;
  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
};

}  // namespace qrt::runtime
