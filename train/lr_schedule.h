// Learning-rate schedules, as a pure function of the optimizer step (0-based):
//   warmup   step < W: lr · (step + 1) / W                     (linear, as torch LinearLR)
//   constant lr
//   cosine   min_lr + (lr - min_lr) · (1 + cos(π · s / S)) / 2 (torch CosineAnnealingLR, closed
//            form), s = step - W, S = total_steps - W
//   step     lr · gamma^⌊s / step_size⌋                         (torch StepLR)
#pragma once

#include <cstdint>
#include <string_view>

#include "ir/status.h"

namespace qrt::train {

enum class ScheduleKind { kConstant, kCosine, kStep };

const char* schedule_name(ScheduleKind kind);
// "constant", "cosine" or "step".
Result<ScheduleKind> schedule_from_name(std::string_view name);

struct LrSchedule {
  ScheduleKind kind = ScheduleKind::kConstant;
  double lr = 1e-3;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;  // cosine: the step where lr reaches min_lr
  double min_lr = 0.0;      // cosine
  int64_t step_size = 1;    // step: steps between decays
  double gamma = 0.5;       // step: decay factor

  // Checks the fields, naming the one at fault.
  Status validate() const;
  double lr_at(int64_t step) const;
};

}  // namespace qrt::train
