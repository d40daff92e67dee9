// MSE and MAE losses and their gradients (PyTorch's mean reduction) on hand-computed values.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "train/loss.h"

namespace qrt::train {
namespace {

runtime::ConstTensorView view(const std::vector<float>& v, ir::Shape shape) {
  return {ir::DType::kF32, std::move(shape), v.data()};
}

TEST_CASE("MSE and MAE values and gradients") {
  // d = p - t = (1, -2, 0, 0.5): Σd² = 5.25, Σ|d| = 3.5, N = 4.
  const std::vector<float> p{2.0f, -1.0f, 3.0f, 0.5f};
  const std::vector<float> t{1.0f, 1.0f, 3.0f, 0.0f};
  std::vector<float> g(4, 99.0f);
  runtime::TensorView grad{ir::DType::kF32, {2, 2}, g.data()};

  auto mse = compute_loss(LossKind::kMse, view(p, {2, 2}), view(t, {2, 2}), grad);
  REQUIRE(mse.is_ok());
  CHECK(*mse == doctest::Approx(5.25 / 4));
  CHECK(g == std::vector<float>{0.5f, -1.0f, 0.0f, 0.25f});  // 2d/N

  auto mae = compute_loss(LossKind::kMae, view(p, {2, 2}), view(t, {2, 2}), grad);
  REQUIRE(mae.is_ok());
  CHECK(*mae == doctest::Approx(3.5 / 4));
  CHECK(g == std::vector<float>{0.25f, -0.25f, 0.0f, 0.25f});  // sign(d)/N, sign(0) = 0

  // Without a gradient buffer only the value is computed.
  CHECK(compute_loss(LossKind::kMse, view(p, {2, 2}), view(t, {2, 2})).value() ==
        doctest::Approx(5.25 / 4));
}

TEST_CASE("loss rejects mismatched shapes and non-finite values") {
  const std::vector<float> p{1.0f, 2.0f, 3.0f};
  const std::vector<float> nan{1.0f, NAN, 3.0f};
  const Status s = compute_loss(LossKind::kMse, view(p, {3}), view(p, {1, 3})).status();
  CHECK_FALSE(s.is_ok());
  CHECK(s.message().find("[1, 3]") != std::string::npos);
  MESSAGE(s.message());
  CHECK_FALSE(compute_loss(LossKind::kMae, view(p, {3}), view(nan, {3})).is_ok());
  CHECK_FALSE(compute_loss(LossKind::kMse, view(p, {0}), view(p, {0})).is_ok());
  CHECK(loss_from_name("mae").value() == LossKind::kMae);
  CHECK_FALSE(loss_from_name("huber").is_ok());
}

}  // namespace
}  // namespace qrt::train
