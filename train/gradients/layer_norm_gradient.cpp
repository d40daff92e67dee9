// LayerNorm backward over the last dim D (PyTorch's native_layer_norm_backward). Per row, with the
// statistics recomputed as the forward does (ops/layer_norm.cpp: two-pass, biased variance, in
// double):
//   x̂ = (x - mean)·rstd,  rstd = 1/√(var + eps),  g = dy ⊙ gamma  (dy when gamma is absent)
//   dx     += rstd · (g - mean(g) - x̂ · mean(g ⊙ x̂))
//   dgamma += Σ_rows dy ⊙ x̂          dbeta += Σ_rows dy
// Everything per row is done in double, so the cancellation in g - mean(g) - x̂·mean(g x̂) costs no
// float precision; the row sums of dgamma/dbeta are double too.
#include <cmath>
#include <vector>

#include "train/gradients/gradient_support.h"
#include "train/gradients/gradients.h"

namespace qrt::train {

Status layer_norm_backward(const GradientArgs& args) {
  const ir::Node& node = args.node;
  QRT_RETURN_IF_ERROR(expect_arity(args, 1, 3, 1, 1));
  QRT_ASSIGN_OR_RETURN(const ir::LayerNormAttrs* attrs, gradient_attrs<ir::LayerNormAttrs>(node));
  if (!(attrs->eps >= 0.0f) || !std::isfinite(attrs->eps))
    return gradient_error(node, "eps " + std::to_string(attrs->eps) + " must be finite and >= 0");
  const runtime::ConstTensorView& x = args.inputs[0];
  if (x.shape.empty()) return gradient_error(node, "input x is a scalar, expected [..., D]");
  const int64_t D = x.shape.back();
  const bool has_gamma = args.inputs.size() > 1 && args.inputs[1].present();
  const bool has_beta = args.inputs.size() > 2 && args.inputs[2].present();
  if (has_gamma) QRT_RETURN_IF_ERROR(expect_shape(node, "gamma", args.inputs[1].shape, {D}));
  if (has_beta) QRT_RETURN_IF_ERROR(expect_shape(node, "beta", args.inputs[2].shape, {D}));
  QRT_RETURN_IF_ERROR(expect_output_shape(args, 0, "output y", x.shape));

  const float* dy = output_grad(args, 0);
  float* dx = wanted_grad(args, 0);
  float* dgamma = has_gamma ? wanted_grad(args, 1) : nullptr;
  float* dbeta = has_beta ? wanted_grad(args, 2) : nullptr;
  if (dy == nullptr || D == 0) return Status::ok();
  const int64_t rows = ir::numel(ir::Shape(x.shape.begin(), x.shape.end() - 1));
  const float* xs = x.as<float>();
  const float* gamma = has_gamma ? args.inputs[1].as<float>() : nullptr;

  std::vector<double> xhat(static_cast<std::size_t>(D)), g(static_cast<std::size_t>(D));
  std::vector<double> gamma_sums(dgamma != nullptr ? D : 0, 0.0);
  std::vector<double> beta_sums(dbeta != nullptr ? D : 0, 0.0);
  const double inv_d = 1.0 / static_cast<double>(D);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = xs + r * D;
    const float* dyr = dy + r * D;
    double sum = 0.0;
    for (int64_t d = 0; d < D; ++d) sum += xr[d];
    const double mean = sum * inv_d;
    double squares = 0.0;
    for (int64_t d = 0; d < D; ++d) squares += (xr[d] - mean) * (xr[d] - mean);
    const double rstd = 1.0 / std::sqrt(squares * inv_d + static_cast<double>(attrs->eps));
    double g_sum = 0.0, gx_sum = 0.0;
    for (int64_t d = 0; d < D; ++d) {
      xhat[d] = (xr[d] - mean) * rstd;
      g[d] = gamma != nullptr ? static_cast<double>(dyr[d]) * gamma[d] : dyr[d];
      g_sum += g[d];
      gx_sum += g[d] * xhat[d];
    }
    if (dx != nullptr) {
      const double g_mean = g_sum * inv_d, gx_mean = gx_sum * inv_d;
      float* dxr = dx + r * D;
      for (int64_t d = 0; d < D; ++d)
        dxr[d] += static_cast<float>(rstd * (g[d] - g_mean - xhat[d] * gx_mean));
    }
    if (dgamma != nullptr)
      for (int64_t d = 0; d < D; ++d) gamma_sums[d] += dyr[d] * xhat[d];
    if (dbeta != nullptr)
      for (int64_t d = 0; d < D; ++d) beta_sums[d] += dyr[d];
  }
  for (int64_t d = 0; d < static_cast<int64_t>(gamma_sums.size()); ++d)
    dgamma[d] += static_cast<float>(gamma_sums[d]);
  for (int64_t d = 0; d < static_cast<int64_t>(beta_sums.size()); ++d)
    dbeta[d] += static_cast<float>(beta_sums[d]);
  return Status::ok();
}

}  // namespace qrt::train
