#include "train/loss.h"

#include <cmath>
#include <string>

namespace qrt::train {

const char* loss_name(LossKind kind) {
  return kind == LossKind::kMse ? "mse" : "mae";
}

Result<LossKind> loss_from_name(std::string_view name) {
  if (name == "mse") return LossKind::kMse;
  if (name == "mae") return LossKind::kMae;
  return invalid_argument("unknown loss '" + std::string(name) + "' (expected mse or mae)");
}

Result<double> compute_loss(LossKind kind, const runtime::ConstTensorView& prediction,
                            const runtime::ConstTensorView& target,
                            const runtime::TensorView& grad) {
  if (prediction.dtype != ir::DType::kF32 || target.dtype != ir::DType::kF32)
    return invalid_argument("loss: prediction and target must be f32");
  if (prediction.shape != target.shape)
    return invalid_argument("loss: target has shape " + ir::shape_to_string(target.shape) +
                            " but the prediction has " + ir::shape_to_string(prediction.shape));
  const int64_t n = prediction.numel();
  if (n <= 0)
    return invalid_argument("loss: empty prediction " + ir::shape_to_string(prediction.shape));
  if (grad.data != nullptr && (grad.dtype != ir::DType::kF32 || grad.shape != prediction.shape))
    return invalid_argument("loss: gradient buffer has shape " + ir::shape_to_string(grad.shape) +
                            ", expected " + ir::shape_to_string(prediction.shape));
  const float* p = prediction.as<float>();
  const float* t = target.as<float>();
  float* g = grad.as<float>();
  double sum = 0.0;
  if (kind == LossKind::kMse) {
    // PyTorch's mse_loss_backward: grad = (2 / N) · (p - t), the factor rounded to float once.
    const float scale = static_cast<float>(2.0 / static_cast<double>(n));
    for (int64_t i = 0; i < n; ++i) {
      const float d = p[i] - t[i];
      sum += static_cast<double>(d) * d;
      if (g != nullptr) g[i] = scale * d;
    }
  } else {
    // l1_loss = mean(|p - t|); abs' = sign (0 at 0), mean' = 1 / N.
    const float scale = static_cast<float>(1.0 / static_cast<double>(n));
    for (int64_t i = 0; i < n; ++i) {
      const float d = p[i] - t[i];
      sum += std::fabs(static_cast<double>(d));
      if (g != nullptr) g[i] = d > 0.0f ? scale : (d < 0.0f ? -scale : 0.0f);
    }
  }
  const double loss = sum / static_cast<double>(n);
  if (!std::isfinite(loss)) return invalid_argument("loss: the loss is not finite");
  return loss;
}

}  // namespace qrt::train
