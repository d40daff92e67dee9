#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

namespace qrt::train {

const char* schedule_name(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::kConstant:
      return "constant";
    case ScheduleKind::kCosine:
      return "cosine";
    case ScheduleKind::kStep:
      return "step";
  }
  return "?";
}

Result<ScheduleKind> schedule_from_name(std::string_view name) {
  if (name == "constant") return ScheduleKind::kConstant;
  if (name == "cosine") return ScheduleKind::kCosine;
  if (name == "step") return ScheduleKind::kStep;
  return invalid_argument("unknown learning-rate schedule '" + std::string(name) +
                          "' (expected constant, cosine or step)");
}

Status LrSchedule::validate() const {
  if (!(lr >= 0.0) || !std::isfinite(lr))
    return invalid_argument("schedule: lr " + std::to_string(lr) + " must be finite and >= 0");
  if (warmup_steps < 0)
    return invalid_argument("schedule: warmup_steps " + std::to_string(warmup_steps) +
                            " must be >= 0");
  if (total_steps < 1)
    return invalid_argument("schedule: total_steps " + std::to_string(total_steps) +
                            " must be >= 1");
  if (!(min_lr >= 0.0) || !std::isfinite(min_lr))
    return invalid_argument("schedule: min_lr must be finite and >= 0");
  if (step_size < 1)
    return invalid_argument("schedule: step_size " + std::to_string(step_size) + " must be >= 1");
  if (!(gamma > 0.0) || !std::isfinite(gamma))
    return invalid_argument("schedule: gamma must be finite and > 0");
  return Status::ok();
}

double LrSchedule::lr_at(int64_t step) const {
  step = std::max<int64_t>(step, 0);
  if (step < warmup_steps)
    return lr * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  const int64_t s = step - warmup_steps;
  switch (kind) {
    case ScheduleKind::kConstant:
      return lr;
    case ScheduleKind::kCosine: {
      const int64_t span = std::max<int64_t>(total_steps - warmup_steps, 1);
      const double progress = std::min(1.0, static_cast<double>(s) / static_cast<double>(span));
      return min_lr + (lr - min_lr) * (1.0 + std::cos(std::numbers::pi * progress)) / 2.0;
    }
    case ScheduleKind::kStep:
      return lr * std::pow(gamma, static_cast<double>(s / step_size));
  }
  return lr;
}

}  // namespace qrt::train
