// Adam and AdamW with PyTorch's update (torch.optim.Adam / AdamW, single-tensor path, 1.13), and
// gradient clipping by global norm (torch.nn.utils.clip_grad_norm_).
//
// Adam, step t (from 1), g the gradient, p the parameter:
//   g ← g + wd·p                                  (Adam: L2 penalty folded into the gradient)
//   p ← p·(1 - lr·wd)                             (AdamW: decoupled decay, instead of the above)
//   m ← β1·m + (1 - β1)·g
//   v ← β2·v + (1 - β2)·g²
//   p ← p - (lr / (1 - β1ᵗ)) · m / (√v / √(1 - β2ᵗ) + ε)
// ε is added after the bias correction of √v, as PyTorch does (Kingma & Ba put it after √v̂ too).
// Then p ← max(p, Parameter::min_value) (a projection; -inf for ordinary weights).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ir/status.h"
#include "train/parameter.h"

namespace qrt::train {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool decoupled_weight_decay = false;  // true: AdamW
};

class Adam {
 public:
  explicit Adam(AdamOptions options) : options_(options) {}

  // Checks the hyper-parameters (lr >= 0, 0 <= β < 1, ε >= 0, wd >= 0), naming the one at fault.
  static Status validate(const AdamOptions& options);

  // One update of every parameter from its grad. The first call fixes the parameter list: later
  // calls must pass parameters of the same sizes in the same order.
  Status step(std::span<Parameter> parameters);

  void set_lr(double lr) { options_.lr = lr; }
  double lr() const { return options_.lr; }
  int64_t steps_taken() const { return step_; }

 private:
  AdamOptions options_;
  int64_t step_ = 0;
  std::vector<std::vector<float>> exp_avg_;     // m per parameter
  std::vector<std::vector<float>> exp_avg_sq_;  // v per parameter
};

// Scales every gradient by min(1, max_norm / (‖g‖₂ + 1e-6)), ‖g‖₂ the norm of all gradients
// together, and returns that norm (before clipping). max_norm must be > 0. Like PyTorch, the
// scale is applied even when it is 1.
Result<double> clip_grad_norm(std::span<Parameter> parameters, double max_norm);

}  // namespace qrt::train
