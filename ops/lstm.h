// CPU reference kernel for LSTM (ir/ops.def): PyTorch nn.LSTM, batch_first, gate order i, f, g, o.
#pragma once

#include <memory>

#include "runtime/kernel.h"

namespace qrt::ops {

std::unique_ptr<runtime::Kernel> make_lstm_kernel();

}  // namespace qrt::ops
