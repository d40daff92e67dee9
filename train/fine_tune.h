// The training loop over forecasting windows: epochs of shuffled batches, Adam/AdamW with an
// optional gradient clip and learning-rate schedule, a validation pass after each epoch, optional
// early stopping, and the best epoch's parameters (lowest validation MSE) restored at the end, as
// samples/forecasting's train.py does.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ir/status.h"
#include "train/ett_data.h"
#include "train/lr_schedule.h"
#include "train/optimizer.h"
#include "train/trainer.h"

namespace qrt::train {

struct FineTuneOptions {
  int64_t epochs = 1;
  int64_t batch = 64;
  uint64_t seed = 2021;  // the shuffling order
  AdamOptions adam{};    // adam.lr is the base rate the schedule scales
  ScheduleKind schedule = ScheduleKind::kConstant;
  int64_t warmup_steps = 0;
  double step_gamma = 0.5;          // step schedule: the rate is multiplied by this every epoch
  double clip_norm = 0.0;           // > 0: clip gradients to this global L2 norm
  int64_t max_steps_per_epoch = 0;  // > 0: stop each epoch after this many batches
  int64_t eval_batch = 256;
  bool restore_best = true;  // end with the parameters of the epoch with the lowest val MSE
  // > 0: stop after this many consecutive epochs whose val MSE is not below the best so far (a tie
  // does not improve), as train.py's --patience; needs a validation set. 0: run every epoch.
  int64_t patience = 0;
  bool progress = false;  // progress bar on stderr when it is a terminal
};

struct ForecastErrors {
  double mse = 0.0;
  double mae = 0.0;
  int64_t windows = 0;
};

struct EpochReport {
  int64_t epoch = 0;        // from 0
  double train_loss = 0.0;  // mean over the epoch's windows of the batch loss
  bool has_val = false;
  ForecastErrors val;
  double lr = 0.0;             // rate of the epoch's last step
  double seconds = 0.0;        // the whole epoch, validation included
  double train_seconds = 0.0;  // the training steps only
  int64_t steps = 0;
};

// MSE and MAE over every window of `series` (stride 1), averaged over all elements; runs the
// trainer's forward with its current parameters.
Result<ForecastErrors> evaluate_windows(Trainer& trainer, const WindowedSeries& series,
                                        int64_t batch);

// Trains on `train` (validated on `val` when given) and returns one report per epoch run;
// `on_epoch` (may be empty) sees each report as it is made. Fewer reports than options.epochs
// means that training stopped early (options.patience).
Result<std::vector<EpochReport>> fine_tune(
    Trainer& trainer, const WindowedSeries& train, const WindowedSeries* val,
    const FineTuneOptions& options, const std::function<void(const EpochReport&)>& on_epoch = {});

}  // namespace qrt::train
