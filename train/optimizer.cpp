#include "train/optimizer.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace qrt::train {

Status Adam::validate(const AdamOptions& o) {
  if (!(o.lr >= 0.0) || !std::isfinite(o.lr))
    return invalid_argument("Adam: lr " + std::to_string(o.lr) + " must be finite and >= 0");
  if (!(o.beta1 >= 0.0 && o.beta1 < 1.0))
    return invalid_argument("Adam: beta1 " + std::to_string(o.beta1) + " must be in [0, 1)");
  if (!(o.beta2 >= 0.0 && o.beta2 < 1.0))
    return invalid_argument("Adam: beta2 " + std::to_string(o.beta2) + " must be in [0, 1)");
  if (!(o.eps >= 0.0) || !std::isfinite(o.eps))
    return invalid_argument("Adam: eps " + std::to_string(o.eps) + " must be finite and >= 0");
  if (!(o.weight_decay >= 0.0) || !std::isfinite(o.weight_decay))
    return invalid_argument("Adam: weight_decay " + std::to_string(o.weight_decay) +
                            " must be finite and >= 0");
  return Status::ok();
}

Status Adam::step(std::span<Parameter> parameters) {
  QRT_RETURN_IF_ERROR(validate(options_));
  if (step_ == 0) {
    exp_avg_.clear();
    exp_avg_sq_.clear();
    for (const Parameter& p : parameters) {
      exp_avg_.emplace_back(p.value.size(), 0.0f);
      exp_avg_sq_.emplace_back(p.value.size(), 0.0f);
    }
  }
  if (parameters.size() != exp_avg_.size())
    return invalid_argument("Adam: step with " + std::to_string(parameters.size()) +
                            " parameters, the optimizer state has " +
                            std::to_string(exp_avg_.size()));
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const Parameter& p = parameters[i];
    if (p.value.size() != exp_avg_[i].size() || p.grad.size() != p.value.size())
      return invalid_argument("Adam: parameter '" + p.name + "' has " +
                              std::to_string(p.value.size()) + " values and " +
                              std::to_string(p.grad.size()) + " gradients, the state has " +
                              std::to_string(exp_avg_[i].size()));
  }
  ++step_;
  const double t = static_cast<double>(step_);
  // Scalars are computed in double and rounded to float once, as PyTorch passes Python floats to
  // float32 tensor ops.
  const double bias_correction1 = 1.0 - std::pow(options_.beta1, t);
  const double bias_correction2 = 1.0 - std::pow(options_.beta2, t);
  const float step_size = static_cast<float>(options_.lr / bias_correction1);
  const float bias_correction2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
  const float beta1 = static_cast<float>(options_.beta1);
  const float beta2 = static_cast<float>(options_.beta2);
  const float one_minus_beta1 = static_cast<float>(1.0 - options_.beta1);
  const float one_minus_beta2 = static_cast<float>(1.0 - options_.beta2);
  const float eps = static_cast<float>(options_.eps);
  const float wd = static_cast<float>(options_.weight_decay);
  const float decay = static_cast<float>(1.0 - options_.lr * options_.weight_decay);
  const bool decoupled = options_.decoupled_weight_decay;

  for (std::size_t i = 0; i < parameters.size(); ++i) {
    float* p = parameters[i].value.data();
    const float* grad = parameters[i].grad.data();
    float* m = exp_avg_[i].data();
    float* v = exp_avg_sq_[i].data();
    const std::size_t n = parameters[i].value.size();
    const float min_value = parameters[i].min_value;
    for (std::size_t k = 0; k < n; ++k) {
      float g = grad[k];
      if (wd != 0.0f) {
        if (decoupled)
          p[k] *= decay;
        else
          g += wd * p[k];
      }
      m[k] = m[k] * beta1 + one_minus_beta1 * g;
      v[k] = v[k] * beta2 + one_minus_beta2 * g * g;
      const float denom = std::sqrt(v[k]) / bias_correction2_sqrt + eps;
      p[k] += -step_size * (m[k] / denom);
      p[k] = std::max(p[k], min_value);
    }
  }
  return Status::ok();
}

Result<double> clip_grad_norm(std::span<Parameter> parameters, double max_norm) {
  if (!(max_norm > 0.0) || !std::isfinite(max_norm))
    return invalid_argument("clip_grad_norm: max_norm " + std::to_string(max_norm) +
                            " must be finite and > 0");
  double squares = 0.0;
  for (const Parameter& p : parameters)
    for (float g : p.grad) squares += static_cast<double>(g) * g;
  const double total_norm = std::sqrt(squares);
  if (!std::isfinite(total_norm))
    return invalid_argument("clip_grad_norm: the gradient norm is not finite");
  const double coef = std::min(1.0, max_norm / (total_norm + 1e-6));
  const float scale = static_cast<float>(coef);
  for (Parameter& p : parameters)
    for (float& g : p.grad) g *= scale;
  return total_norm;
}

}  // namespace qrt::train
