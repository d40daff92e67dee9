// Adam / AdamW, gradient clipping and learning-rate schedules against values worked out by hand
// from PyTorch's formulas (train/optimizer.h, train/lr_schedule.h).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "train/lr_schedule.h"
#include "train/optimizer.h"

namespace qrt::train {
namespace {

// The hand values below are exact in real arithmetic; the float32 update rounds a few times.
constexpr double kFloatTolerance = 1e-6;

Parameter make_parameter(std::vector<float> value, std::vector<float> grad) {
  Parameter p;
  p.name = "p";
  p.shape = {static_cast<int64_t>(value.size())};
  p.value = std::move(value);
  p.grad = std::move(grad);
  return p;
}

TEST_CASE("Adam with a constant gradient moves every weight by lr per step") {
  // m_t = (1-β1ᵗ)·g, v_t = (1-β2ᵗ)·g², so the bias-corrected step is lr·g/|g| (ε aside),
  // whatever the gradient's size: a classic property of Adam (Kingma & Ba 2015, §2.1).
  std::vector<Parameter> params{make_parameter({1.0f, -2.0f, 0.5f}, {0.5f, -0.1f, 3.0f})};
  Adam adam(AdamOptions{.lr = 0.1});
  for (int step = 1; step <= 3; ++step) {
    REQUIRE(adam.step(params).is_ok());
    CHECK(params[0].value[0] == doctest::Approx(1.0 - 0.1 * step).epsilon(kFloatTolerance));
    CHECK(params[0].value[1] == doctest::Approx(-2.0 + 0.1 * step).epsilon(kFloatTolerance));
    CHECK(params[0].value[2] == doctest::Approx(0.5 - 0.1 * step).epsilon(kFloatTolerance));
  }
  CHECK(adam.steps_taken() == 3);
}

TEST_CASE("Adam's second step with a reversed gradient (bias correction by hand)") {
  // g1 = 1: m1 = 0.1, v1 = 0.001, step 1 = lr·(0.1/0.1)/(√0.001/√0.001) = lr.
  // g2 = -1: m2 = 0.9·0.1 - 0.1 = -0.01, v2 = 0.999·0.001 + 0.001 = 0.001999,
  //          bc1 = 1 - 0.81 = 0.19, bc2 = 1 - 0.998001 = 0.001999, denom = 1,
  //          step 2 = -(lr/0.19)·(-0.01) = +lr·0.01/0.19.
  std::vector<Parameter> params{make_parameter({2.0f}, {1.0f})};
  Adam adam(AdamOptions{.lr = 0.1});
  REQUIRE(adam.step(params).is_ok());
  CHECK(params[0].value[0] == doctest::Approx(1.9).epsilon(kFloatTolerance));
  params[0].grad[0] = -1.0f;
  REQUIRE(adam.step(params).is_ok());
  CHECK(params[0].value[0] == doctest::Approx(1.9 + 0.1 * 0.01 / 0.19).epsilon(kFloatTolerance));
}

TEST_CASE("Adam's L2 penalty goes through the moments, AdamW's decay does not") {
  // Zero gradient, p = 2, wd = 0.1, lr = 0.1.
  // Adam: g' = wd·p = 0.2 > 0, so the first step is -lr: p = 1.9.
  // AdamW: p·(1 - lr·wd) = 1.98, then m = v = 0 and the Adam step is 0.
  std::vector<Parameter> adam_params{make_parameter({2.0f}, {0.0f})};
  Adam adam(AdamOptions{.lr = 0.1, .weight_decay = 0.1});
  REQUIRE(adam.step(adam_params).is_ok());
  CHECK(adam_params[0].value[0] == doctest::Approx(1.9).epsilon(kFloatTolerance));

  std::vector<Parameter> adamw_params{make_parameter({2.0f}, {0.0f})};
  Adam adamw(AdamOptions{.lr = 0.1, .weight_decay = 0.1, .decoupled_weight_decay = true});
  REQUIRE(adamw.step(adamw_params).is_ok());
  CHECK(adamw_params[0].value[0] == doctest::Approx(1.98).epsilon(kFloatTolerance));
}

TEST_CASE("Adam: eps sits outside the square root of the corrected second moment") {
  // One step, g = 1e-6, eps = 1e-6: denom = |g| + eps = 2e-6, so the step is lr/2 (with eps under
  // the root it would be lr·1e-6/√(1e-12 + 1e-6) ≈ lr·1e-3).
  std::vector<Parameter> params{make_parameter({0.0f}, {1e-6f})};
  Adam adam(AdamOptions{.lr = 1.0, .eps = 1e-6});
  REQUIRE(adam.step(params).is_ok());
  CHECK(params[0].value[0] == doctest::Approx(-0.5).epsilon(1e-5));
}

TEST_CASE("Adam keeps a parameter at or above its min_value (a learnable FakeQuant scale)") {
  // Scale 1e-3 with a positive gradient: one Adam step of lr = 0.01 would make it -9e-3.
  std::vector<Parameter> params{make_parameter({1e-3f, 0.5f}, {1.0f, 1.0f})};
  params[0].min_value = 1e-7f;
  Adam adam(AdamOptions{.lr = 0.01});
  REQUIRE(adam.step(params).is_ok());
  CHECK(params[0].value[0] == 1e-7f);
  CHECK(params[0].value[1] == doctest::Approx(0.49).epsilon(kFloatTolerance));
}

TEST_CASE("Adam rejects bad hyper-parameters and a changed parameter list") {
  std::vector<Parameter> params{make_parameter({1.0f}, {1.0f})};
  CHECK_FALSE(Adam(AdamOptions{.lr = -1.0}).step(params).is_ok());
  CHECK_FALSE(Adam(AdamOptions{.beta1 = 1.0}).step(params).is_ok());
  CHECK_FALSE(Adam(AdamOptions{.eps = NAN}).step(params).is_ok());
  Adam adam(AdamOptions{});
  REQUIRE(adam.step(params).is_ok());
  params.push_back(make_parameter({1.0f, 2.0f}, {0.0f, 0.0f}));
  const Status s = adam.step(params);
  CHECK_FALSE(s.is_ok());
  MESSAGE(s.message());
}

TEST_CASE("clip_grad_norm scales by max_norm / (norm + 1e-6) over all parameters together") {
  // ‖(3, 4, 12)‖ = 13.
  std::vector<Parameter> params{make_parameter({0.0f, 0.0f}, {3.0f, 4.0f}),
                                make_parameter({0.0f}, {12.0f})};
  auto norm = clip_grad_norm(params, 6.5);
  REQUIRE(norm.is_ok());
  CHECK(*norm == doctest::Approx(13.0));
  const double coef = 6.5 / (13.0 + 1e-6);
  CHECK(params[0].grad[0] == doctest::Approx(3.0 * coef).epsilon(kFloatTolerance));
  CHECK(params[0].grad[1] == doctest::Approx(4.0 * coef).epsilon(kFloatTolerance));
  CHECK(params[1].grad[0] == doctest::Approx(12.0 * coef).epsilon(kFloatTolerance));

  // Below the limit nothing changes.
  auto again = clip_grad_norm(params, 100.0);
  REQUIRE(again.is_ok());
  CHECK(*again == doctest::Approx(6.5).epsilon(1e-6));
  CHECK(params[1].grad[0] == doctest::Approx(12.0 * coef).epsilon(kFloatTolerance));

  CHECK_FALSE(clip_grad_norm(params, 0.0).is_ok());
  params[0].grad[0] = INFINITY;
  CHECK_FALSE(clip_grad_norm(params, 1.0).is_ok());
}

TEST_CASE("learning-rate schedules") {
  LrSchedule constant{.kind = ScheduleKind::kConstant, .lr = 0.01};
  CHECK(constant.lr_at(0) == 0.01);
  CHECK(constant.lr_at(1000) == 0.01);

  LrSchedule cosine{.kind = ScheduleKind::kCosine, .lr = 1.0, .total_steps = 10};
  CHECK(cosine.lr_at(0) == doctest::Approx(1.0));
  CHECK(cosine.lr_at(5) == doctest::Approx(0.5));
  CHECK(cosine.lr_at(10) == doctest::Approx(0.0));
  CHECK(cosine.lr_at(20) == doctest::Approx(0.0));

  LrSchedule warm{.kind = ScheduleKind::kCosine, .lr = 1.0, .warmup_steps = 4, .total_steps = 14};
  CHECK(warm.lr_at(0) == doctest::Approx(0.25));
  CHECK(warm.lr_at(3) == doctest::Approx(1.0));
  CHECK(warm.lr_at(4) == doctest::Approx(1.0));
  CHECK(warm.lr_at(9) == doctest::Approx(0.5));

  LrSchedule step{.kind = ScheduleKind::kStep, .lr = 1.0, .step_size = 3, .gamma = 0.5};
  CHECK(step.lr_at(2) == 1.0);
  CHECK(step.lr_at(3) == 0.5);
  CHECK(step.lr_at(7) == 0.25);

  CHECK(schedule_from_name("cosine").value() == ScheduleKind::kCosine);
  CHECK_FALSE(schedule_from_name("linear").is_ok());
  CHECK_FALSE(LrSchedule{.total_steps = 0}.validate().is_ok());
  CHECK_FALSE(LrSchedule{.lr = -1.0}.validate().is_ok());
}

}  // namespace
}  // namespace qrt::train
