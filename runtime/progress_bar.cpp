#include "runtime/progress_bar.h"

#include <unistd.h>

#include <cstdio>

namespace qrt::runtime {

namespace {
constexpr int64_t kBarWidth = 30;
constexpr int kStatusWidth = 40;  // room cleared for the counter and the status text
}  // namespace

ProgressBar::ProgressBar(bool enabled, std::string label, int64_t total)
    : visible_(enabled && total > 0 && isatty(STDERR_FILENO) == 1),
      label_(std::move(label)),
      total_(total) {
  if (visible_) draw({});
}

ProgressBar::~ProgressBar() {
  if (!visible_) return;
  std::fprintf(stderr, "\r%*s\r", static_cast<int>(label_.size() + kBarWidth) + kStatusWidth, "");
  std::fflush(stderr);
}

void ProgressBar::advance(std::string_view status) {
  if (done_ < total_) ++done_;
  if (visible_) draw(status);
}

void ProgressBar::draw(std::string_view status) const {
  const int64_t filled = done_ * kBarWidth / total_;
  const std::string bar = std::string(static_cast<std::size_t>(filled), '#') +
                          std::string(static_cast<std::size_t>(kBarWidth - filled), ' ');
  std::fprintf(stderr, "\r%s [%s] %lld/%lld %.*s", label_.c_str(), bar.c_str(),
               static_cast<long long>(done_), static_cast<long long>(total_),
               static_cast<int>(status.size()), status.data());
  std::fflush(stderr);
}

}  // namespace qrt::runtime
