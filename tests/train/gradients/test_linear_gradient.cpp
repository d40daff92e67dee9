// Linear backward against finite differences, and its multi-threaded path against direct float64
// products.
#include <doctest/doctest.h>

#include <cmath>

#include "tests/support/random.h"
#include "tests/train/gradients/gradient_harness.h"
#include "tests/train/gradients/reference_forward.h"

namespace qrt::testing {
namespace {

GradientCase linear_case(ir::Shape x, int64_t N, bool bias, uint64_t seed) {
  GradientCase c;
  c.op = ir::OpKind::kLinear;
  c.attrs = ir::LinearAttrs{};
  const int64_t K = x.back();
  c.inputs.push_back(random_input(std::move(x), seed));
  c.inputs.push_back(random_input({N, K}, seed + 1));
  if (bias) c.inputs.push_back(random_input({N}, seed + 2));
  c.forward = linear64;
  c.seed = seed;
  return c;
}

TEST_CASE("Linear backward matches finite differences") {
  const uint64_t seed = 101;
  MESSAGE("seed " << seed);
  check_gradients(linear_case({2, 3, 5}, 7, true, seed));
  check_gradients(linear_case({1, 1}, 1, false, seed + 10));
  check_gradients(linear_case({13, 11}, 3, true, seed + 20));
  check_gradients(linear_case({4}, 2, true, seed + 30));  // a single row without batch dims
}

// The first shape runs each product on one thread with the dot-product GEMM; the second is large
// enough that both products split over threads (>= 2^23 multiply-adds) and run on lane-packed
// copies of their right operand (>= 256 output rows: dx has M rows, dW has N). Compared with the
// products written out in float64. Tolerance: f32 dot products of up to 300 terms of values in
// [-1, 1] are accurate to ~1e-6 of the result scale; 1e-5 leaves room for the vectorized order.
TEST_CASE("Linear backward on the threaded and packed paths matches float64 products") {
  constexpr double kTolerance = 1e-5;
  struct Shape {
    int64_t M, N, K;
  };
  for (const Shape shape : {Shape{67, 65, 64}, Shape{300, 260, 111}}) {
    const int64_t M = shape.M, N = shape.N, K = shape.K;
    const uint64_t seed = 202 + static_cast<uint64_t>(M);
    MESSAGE("seed " << seed << " M " << M << " N " << N << " K " << K);
    const std::vector<float> x = random_floats(M * K, seed);
    const std::vector<float> w = random_floats(N * K, seed + 1);
    const std::vector<float> b = random_floats(N, seed + 2);
    const std::vector<float> y(M * N, 0.0f);
    const std::vector<float> dy = random_floats(M * N, seed + 3);
    std::vector<float> dx(M * K, 0.0f), dw(N * K, 0.0f), db(N, 0.0f);
    const ir::Graph g =
        one_node_graph(ir::OpKind::kLinear, ir::LinearAttrs{}, {true, true, true}, 1);
    const runtime::ConstTensorView in[] = {{ir::DType::kF32, {M, K}, x.data()},
                                           {ir::DType::kF32, {N, K}, w.data()},
                                           {ir::DType::kF32, {N}, b.data()}};
    const runtime::ConstTensorView out[] = {{ir::DType::kF32, {M, N}, y.data()}};
    const runtime::ConstTensorView dout[] = {{ir::DType::kF32, {M, N}, dy.data()}};
    const runtime::TensorView din[] = {{ir::DType::kF32, {M, K}, dx.data()},
                                       {ir::DType::kF32, {N, K}, dw.data()},
                                       {ir::DType::kF32, {N}, db.data()}};
    const Status s = train::backward({g, g.nodes[0], in, out, dout, din});
    REQUIRE_MESSAGE(s.is_ok(), s.to_string());

    double err_x = 0, err_w = 0, err_b = 0, scale = 0;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t k = 0; k < K; ++k) {
        double e = 0;
        for (int64_t n = 0; n < N; ++n) e += double(dy[m * N + n]) * w[n * K + k];
        err_x = std::max(err_x, std::fabs(e - dx[m * K + k]));
        scale = std::max(scale, std::fabs(e));
      }
    for (int64_t n = 0; n < N; ++n) {
      double eb = 0;
      for (int64_t m = 0; m < M; ++m) eb += dy[m * N + n];
      err_b = std::max(err_b, std::fabs(eb - db[n]));
      for (int64_t k = 0; k < K; ++k) {
        double e = 0;
        for (int64_t m = 0; m < M; ++m) e += double(dy[m * N + n]) * x[m * K + k];
        err_w = std::max(err_w, std::fabs(e - dw[n * K + k]));
      }
    }
    REQUIRE(scale > 1.0);
    CHECK(err_x <= kTolerance * scale);
    CHECK(err_w <= kTolerance * scale);
    CHECK(err_b <= kTolerance * scale);
  }
}

}  // namespace
}  // namespace qrt::testing
