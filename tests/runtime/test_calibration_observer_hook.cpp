// Session::run with a ValueObserver: every graph input and node output is shown once, in execution
// order, holding the right data at the moment of the call; outputs are unchanged; an observer error
// stops the run naming the value; an empty observer is rejected.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "frontends/builder.h"
#include "ops/register.h"
#include "runtime/session.h"
#include "tests/support/random.h"

using namespace qrt;
using runtime::ConstTensorView;
using runtime::NamedTensor;

namespace {

// f32 kernels against a double reference on O(1) values with sums of at most 4 terms.
constexpr double kTolerance = 1e-5;

constexpr int64_t kIn = 4, kOut = 3;

struct Captured {
  std::string name;
  ir::Shape shape;
  std::vector<float> data;
};

}  // namespace

TEST_CASE("Session::run shows every input and node output to the observer") {
  const uint64_t seed = 9001;
  MESSAGE("seed " << seed);
  const auto w = testing::random_floats(kOut * kIn, seed);
  const auto bias = testing::random_floats(kOut, seed + 1);
  frontends::GraphBuilder b;
  const auto x = b.input("x", {ir::kDynamicDim, kIn});
  const auto h = b.linear("fc", x, b.constant("fc.weight", {kOut, kIn}, w),
                          b.constant("fc.bias", {kOut}, bias));
  const auto t = b.unary("tanh", ir::OpKind::kTanh, h);
  b.output(b.binary("sum", ir::OpKind::kAdd, t, h), "y");
  auto g = b.build();
  REQUIRE_MESSAGE(g.is_ok(), g.status().to_string());
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  auto session =
      runtime::Session::create(std::make_shared<const ir::Graph>(std::move(g).value()), registry);
  REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());

  for (int64_t rows : {1, 5}) {
    INFO("rows " << rows);
    const auto xs = testing::random_floats(static_cast<std::size_t>(rows * kIn), seed + rows);
    const std::vector<NamedTensor> inputs{
        {"x", ConstTensorView{ir::DType::kF32, {rows, kIn}, xs.data()}}};
    std::vector<Captured> seen;
    const runtime::ValueObserver observer = [&](const ir::Value& value,
                                                const ConstTensorView& view) {
      REQUIRE(view.dtype == ir::DType::kF32);
      const float* p = view.as<float>();
      seen.push_back({value.name, view.shape, std::vector<float>(p, p + view.numel())});
      return Status::ok();
    };
    auto observed = (*session)->run(inputs, observer);
    REQUIRE_MESSAGE(observed.is_ok(), observed.status().to_string());
    auto plain = (*session)->run(inputs);
    REQUIRE(plain.is_ok());

    REQUIRE(seen.size() == 4);
    CHECK(seen[0].name == "x");
    CHECK(seen[1].name == "fc");
    CHECK(seen[2].name == "tanh");
    CHECK(seen[3].name == "y");
    CHECK(seen[0].data == xs);
    CHECK(seen[1].shape == ir::Shape{rows, kOut});
    // Independent computation: fc = x·Wᵀ + b, tanh, y = tanh(fc) + fc.
    double norm = 0.0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t o = 0; o < kOut; ++o) {
        double fc = bias[o];
        for (int64_t k = 0; k < kIn; ++k) fc += double(xs[r * kIn + k]) * w[o * kIn + k];
        const std::size_t i = static_cast<std::size_t>(r * kOut + o);
        CHECK(std::fabs(seen[1].data[i] - fc) <= kTolerance);
        CHECK(std::fabs(seen[2].data[i] - std::tanh(fc)) <= kTolerance);
        CHECK(std::fabs(seen[3].data[i] - (std::tanh(fc) + fc)) <= kTolerance);
        norm += std::fabs(fc);
      }
    CHECK(norm > 0.1);  // non-trivial data
    // The observer changes nothing in the results.
    const auto a = (*observed)[0].span<float>(), p = (*plain)[0].span<float>();
    CHECK(std::equal(a.begin(), a.end(), p.begin(), p.end()));
    CHECK(std::equal(a.begin(), a.end(), seen[3].data.begin(), seen[3].data.end()));
  }
}

TEST_CASE("an observer error stops the run and names the value; an empty observer is rejected") {
  frontends::GraphBuilder b;
  const auto x = b.input("x", {3});
  const auto r = b.unary("relu", ir::OpKind::kRelu, x);
  b.output(b.unary("sig", ir::OpKind::kSigmoid, r));
  auto g = b.build();
  REQUIRE(g.is_ok());
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  auto session =
      runtime::Session::create(std::make_shared<const ir::Graph>(std::move(g).value()), registry);
  REQUIRE(session.is_ok());
  const std::vector<float> xs{-1.0f, 0.5f, 2.0f};
  const std::vector<NamedTensor> inputs{{"x", ConstTensorView{ir::DType::kF32, {3}, xs.data()}}};

  std::vector<std::string> seen;
  auto result = (*session)->run(inputs, [&](const ir::Value& value, const ConstTensorView&) {
    seen.push_back(value.name);
    return value.name == "relu" ? invalid_argument("rejected") : Status::ok();
  });
  REQUIRE_FALSE(result.is_ok());
  MESSAGE(result.status().to_string());
  CHECK(result.status().code() == StatusCode::kInvalidArgument);
  CHECK(result.status().message().find("'relu'") != std::string::npos);
  CHECK(seen == std::vector<std::string>{"x", "relu"});  // "sig" never ran

  auto empty = (*session)->run(inputs, runtime::ValueObserver{});
  CHECK(empty.status().code() == StatusCode::kInvalidArgument);
  // The session still runs normally afterwards.
  auto again = (*session)->run(inputs);
  REQUIRE(again.is_ok());
  CHECK((*again)[0].span<float>()[0] == doctest::Approx(0.5f));
}
