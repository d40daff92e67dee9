// The training options every training command reads (`qrt finetune`, the forecasting sample's
// `train_forecaster`), parsed in one place so both spell and check them alike.
#pragma once

#include <string_view>

#include "ir/status.h"
#include "tools/option_reader.h"
#include "train/fine_tune.h"

namespace qrt::tools {

// Reads --epochs, --lr, --batch, --seed, --max-steps, --patience or --no-progress from `a` into
// `fit`. Returns true when `a` was one of them, false for any other argument; a bad value is an
// error naming `command` and the option. The caller must still list them for parse_arguments
// (--no-progress as a flag, the others as valued).
Result<bool> read_fit_option(std::string_view command, const ParsedArgument& a,
                             train::FineTuneOptions& fit);

}  // namespace qrt::tools
