// Backward of the elementwise activations: dx += dy · f'(x), with f' as PyTorch's autograd defines
// it (tools/autograd/derivatives.yaml and the *_backward kernels in ATen):
//   Relu       f' = 1 if x > 0 else 0       (0 at x = 0, as threshold_backward)
//   LeakyRelu  f' = 1 if x > 0 else slope   (slope at x = 0)
//   Gelu erf   f' = Φ(x) + x·φ(x),  φ(x) = e^{-x²/2}/√(2π)
//   Gelu tanh  u = √(2/π)(x + 0.044715x³):
//              f' = ½(1 + tanh u) + ½x(1 - tanh²u)·√(2/π)(1 + 3·0.044715x²)
//   Silu       f' = σ(x)(1 + x(1 - σ(x)))
//   Sigmoid    f' = y(1 - y)                (from the output, as sigmoid_backward)
//   Tanh       f' = 1 - y²                  (from the output, as tanh_backward)
// Sigmoid and Tanh recompute y from x when the output is not given.
#include <cmath>

#include "ops/activation_math.h"
#include "train/gradients/gradient_support.h"
#include "train/gradients/gradients.h"

namespace qrt::train {

namespace {

constexpr float kInvSqrt2 = 0.70710678118654752440f;
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;  // 1/√(2π)
constexpr float kSqrt2OverPi = 0.79788456080286535588f;
constexpr float kGeluCubic = 0.044715f;

float gelu_erf_derivative(float x) {
  const float cdf = 0.5f * (1.0f + std::erf(x * kInvSqrt2));
  const float pdf = kInvSqrt2Pi * std::exp(-0.5f * x * x);
  return cdf + x * pdf;
}

float gelu_tanh_derivative(float x) {
  const float x2 = x * x;
  const float t = std::tanh(kSqrt2OverPi * (x + kGeluCubic * x2 * x));
  return 0.5f * (1.0f + t) +
         0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * x2);
}

float silu_derivative(float x) {
  const float s = ops::sigmoid(x);
  return s * (1.0f + x * (1.0f - s));
}

// dx[i] += dy[i]·derivative(src[i]) for the n elements.
template <typename Derivative>
void apply(const float* src, const float* dy, float* dx, int64_t n, Derivative derivative) {
  for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * derivative(src[i]);
}

}  // namespace

Status activation_backward(const GradientArgs& args) {
  const ir::Node& node = args.node;
  QRT_RETURN_IF_ERROR(expect_arity(args, 1, 1, 1, 1));
  const runtime::ConstTensorView& x = args.inputs[0];
  const runtime::ConstTensorView& y = args.outputs[0];
  QRT_RETURN_IF_ERROR(expect_output_shape(args, 0, "output y", x.shape));
  const float* dy = output_grad(args, 0);
  float* dx = wanted_grad(args, 0);
  if (dy == nullptr || dx == nullptr) return Status::ok();
  const int64_t n = x.numel();
  const float* xs = x.as<float>();
  const float* ys = y.as<float>();  // nullptr when the caller did not keep the output

  switch (node.op) {
    case ir::OpKind::kRelu:
      apply(xs, dy, dx, n, [](float v) { return v > 0.0f ? 1.0f : 0.0f; });
      break;
    case ir::OpKind::kLeakyRelu: {
      QRT_ASSIGN_OR_RETURN(const ir::LeakyReluAttrs* attrs,
                           gradient_attrs<ir::LeakyReluAttrs>(node));
      const float slope = attrs->negative_slope;
      apply(xs, dy, dx, n, [slope](float v) { return v > 0.0f ? 1.0f : slope; });
      break;
    }
    case ir::OpKind::kGelu: {
      QRT_ASSIGN_OR_RETURN(const ir::GeluAttrs* attrs, gradient_attrs<ir::GeluAttrs>(node));
      if (attrs->tanh_approximation)
        apply(xs, dy, dx, n, gelu_tanh_derivative);
      else
        apply(xs, dy, dx, n, gelu_erf_derivative);
      break;
    }
    case ir::OpKind::kSilu:
      apply(xs, dy, dx, n, silu_derivative);
      break;
    case ir::OpKind::kSigmoid:
      if (ys != nullptr)
        apply(ys, dy, dx, n, [](float v) { return v * (1.0f - v); });
      else
        apply(xs, dy, dx, n, [](float v) {
          const float s = ops::sigmoid(v);
          return s * (1.0f - s);
        });
      break;
    case ir::OpKind::kTanh:
      if (ys != nullptr)
        apply(ys, dy, dx, n, [](float v) { return 1.0f - v * v; });
      else
        apply(xs, dy, dx, n, [](float v) {
          const float t = std::tanh(v);
          return 1.0f - t * t;
        });
      break;
    default:
      return gradient_error(node, "is not an activation");
  }
  return Status::ok();
}

}  // namespace qrt::train
