#include "runtime/calibration_progress.h"

#include <unistd.h>

#include <cstdio>
#include <string>

namespace qrt::runtime {

namespace {
constexpr std::size_t kBarWidth = 30;
}

CalibrationProgress::CalibrationProgress(bool enabled, std::size_t total)
    : visible_(enabled && total > 0 && isatty(STDERR_FILENO) == 1), total_(total) {
  if (visible_) draw();
}

CalibrationProgress::~CalibrationProgress() {
  if (visible_) std::fputc('\n', stderr);
}

void CalibrationProgress::advance() {
  if (done_ < total_) ++done_;
  if (visible_) draw();
}

void CalibrationProgress::draw() const {
  const std::size_t filled = total_ == 0 ? kBarWidth : done_ * kBarWidth / total_;
  const std::string bar = std::string(filled, '#') + std::string(kBarWidth - filled, ' ');
  std::fprintf(stderr, "\rcalibrating [%s] %zu/%zu", bar.c_str(), done_, total_);
  std::fflush(stderr);
}

}  // namespace qrt::runtime
