// Activation ranges observed by calibration, consumed by the static int8 pass. Produced by the
// calibration runner (runtime/calibration.h), which runs the float graph with observers.
#pragma once

#include <map>
#include <string>

namespace qrt::ir {

struct TensorRange {
  float min = 0.0f;
  float max = 0.0f;
};

struct CalibrationTable {
  std::string method;                         // minmax, ema, percentile, mse, entropy
  std::map<std::string, TensorRange> ranges;  // by value name
};

}  // namespace qrt::ir
