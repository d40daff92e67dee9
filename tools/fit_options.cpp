#include "tools/fit_options.h"

#include <cstdint>

namespace qrt::tools {

Result<bool> read_fit_option(std::string_view command, const ParsedArgument& a,
                             train::FineTuneOptions& fit) {
  if (a.positional) return false;
  if (a.name == "--epochs") {
    QRT_ASSIGN_OR_RETURN(fit.epochs, parse_integer(command, a.name, a.value, 1));
  } else if (a.name == "--lr") {
    QRT_ASSIGN_OR_RETURN(const float lr, parse_float(command, a.name, a.value, 0.0f));
    fit.adam.lr = lr;
  } else if (a.name == "--batch") {
    QRT_ASSIGN_OR_RETURN(fit.batch, parse_integer(command, a.name, a.value, 1));
  } else if (a.name == "--seed") {
    QRT_ASSIGN_OR_RETURN(const int64_t seed, parse_integer(command, a.name, a.value, 0));
    fit.seed = static_cast<uint64_t>(seed);
  } else if (a.name == "--max-steps") {
    QRT_ASSIGN_OR_RETURN(fit.max_steps_per_epoch, parse_integer(command, a.name, a.value, 1));
  } else if (a.name == "--patience") {
    QRT_ASSIGN_OR_RETURN(fit.patience, parse_integer(command, a.name, a.value, 0));
  } else if (a.name == "--no-progress") {
    fit.progress = false;
  } else {
    return false;
  }
  return true;
}

}  // namespace qrt::tools
