// Regression losses with PyTorch's default reduction (mean over every element):
//   MSE  L = (1/N) Σ (p - t)²      dL/dp = (2/N)(p - t)        (torch.nn.MSELoss)
//   MAE  L = (1/N) Σ |p - t|       dL/dp = (1/N) sign(p - t)   (torch.nn.L1Loss; sign(0) = 0)
#pragma once

#include <string_view>

#include "ir/status.h"
#include "runtime/tensor.h"

namespace qrt::train {

enum class LossKind { kMse, kMae };

const char* loss_name(LossKind kind);
// "mse" or "mae".
Result<LossKind> loss_from_name(std::string_view name);

// The mean loss of `prediction` against `target` (same shape, f32). When `grad` has data it
// receives dL/d(prediction) (overwritten, same shape). The sum runs in double, so the value does
// not depend on the element order.
Result<double> compute_loss(LossKind kind, const runtime::ConstTensorView& prediction,
                            const runtime::ConstTensorView& target,
                            const runtime::TensorView& grad = {});

}  // namespace qrt::train
