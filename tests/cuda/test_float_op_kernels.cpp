// The CUDA entries for the forecaster's float ops (cuda/kernels/: LayerNorm, Add / Sub / Mul with
// broadcasting, Slice, Transpose, Reshape) through runtime::Kernel prepare/run on device buffers
// against the CPU reference kernels (ops/), on random data with printed seeds, shapes with 1 and
// primes. Data movement must be exact; LayerNorm within float rounding. Without a GPU the
// registry wiring and the clean prepare failure are checked.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/cuda/kernel_test_support.h"
#include "tests/support/random.h"

namespace qrt::testing {
namespace {

QInput random_input(const std::string& name, const ir::Shape& shape, uint64_t seed) {
  return f32_input(name, shape, random_floats(static_cast<std::size_t>(ir::numel(shape)), seed));
}

QCase float_case(ir::OpKind op, ir::Attrs attrs, std::vector<QInput> inputs, ir::Shape y) {
  QCase c;
  c.op = op;
  c.attrs = std::move(attrs);
  c.inputs = std::move(inputs);
  c.output_shapes = {std::move(y)};
  return c;
}

// Runs `c` on its CUDA entry and the CPU reference; `tolerance` relative to max |y| (0: exact).
void check_against_cpu(const QCase& c, const std::string& entry, double tolerance) {
  CudaKernelRun gpu;
  if (!run_on_gpu_or_skip(c, entry, gpu)) return;
  auto cpu = run_quantized_op(c);
  REQUIRE_MESSAGE(cpu.is_ok(), cpu.status().to_string());
  if (tolerance == 0.0) {
    CHECK(gpu.outputs[0] == cpu->outputs[0]);
    CHECK(max_abs(cpu->outputs[0]) > 0.0f);
  } else {
    check_close(gpu.outputs[0], cpu->outputs[0], tolerance);
  }
}

TEST_CASE("CUDA LayerNorm matches the CPU reference") {
  // The CPU accumulates mean and variance in double, the GPU in float: a few float ulps of the
  // normalized value (|y| up to ~4 for D = 1031 uniform samples), far below a wrong eps or gamma.
  constexpr double kTolerance = 1e-5;
  const struct {
    ir::Shape x;
    bool affine;
  } cases[] = {{{1, 1}, true}, {{3, 1, 257}, true}, {{2, 96, 7}, false}, {{5, 1031}, true}};
  uint64_t seed = 95000;
  for (const auto& [shape, affine] : cases) {
    seed += 10;
    INFO("x ", ir::shape_to_string(shape), ", affine ", affine, ", seed ", seed);
    const int64_t D = shape.back();
    std::vector<QInput> inputs = {random_input("x", shape, seed)};
    if (affine) {
      inputs.push_back(f32_constant("gamma", {D}, random_floats(D, seed + 1, 0.5f, 1.5f)));
      inputs.push_back(f32_constant("beta", {D}, random_floats(D, seed + 2)));
    }
    // D = 1: every value is its row's mean and y = beta, so the reference is beta itself.
    check_against_cpu(
        float_case(ir::OpKind::kLayerNorm, ir::LayerNormAttrs{1e-5f}, std::move(inputs), shape),
        "cuda.layer_norm", kTolerance);
  }
  QRT_REQUIRE_GPU();
}

TEST_CASE("CUDA Add / Sub / Mul broadcast as the CPU reference does") {
  const struct {
    ir::Shape a, b, y;
  } shapes[] = {{{7}, {7}, {7}},
                {{2, 1, 5}, {3, 1}, {2, 3, 5}},
                {{1}, {4, 13}, {4, 13}},
                {{3, 96, 7}, {96, 1}, {3, 96, 7}}};
  const struct {
    ir::OpKind op;
    const char* entry;
  } ops[] = {{ir::OpKind::kAdd, "cuda.add"},
             {ir::OpKind::kSub, "cuda.sub"},
             {ir::OpKind::kMul, "cuda.mul"}};
  uint64_t seed = 96000;
  for (const auto& [op, entry] : ops) {
    for (const auto& s : shapes) {
      seed += 10;
      INFO(std::string(entry), " a ", ir::shape_to_string(s.a), " b ", ir::shape_to_string(s.b),
           ", seed ", seed);
      check_against_cpu(
          float_case(op, ir::NoAttrs{},
                     {random_input("a", s.a, seed), random_input("b", s.b, seed + 1)}, s.y),
          entry, 0.0);
    }
    // A constant operand (a bias): a session passes it as a host view, uploaded in prepare.
    seed += 10;
    INFO(std::string(entry), " with a constant b [13], seed ", seed);
    check_against_cpu(float_case(op, ir::NoAttrs{},
                                 {random_input("a", {4, 13}, seed),
                                  f32_constant("b", {13}, random_floats(13, seed + 1))},
                                 {4, 13}),
                      entry, 0.0);
  }
  QRT_REQUIRE_GPU();
}

TEST_CASE("CUDA Slice, Transpose and Reshape move the same elements as the CPU reference") {
  uint64_t seed = 97000;
  const ir::Shape x = {3, 7, 5};
  const struct {
    ir::SliceAttrs attrs;
    ir::Shape y;
  } slices[] = {{{1, -5, 100, 2, false}, {3, 3, 5}},
                {{1, 6, 7, 1, true}, {3, 5}},
                {{-1, 0, 5, 1, false}, {3, 7, 5}},
                {{0, 1, 2, 1, false}, {1, 7, 5}}};
  for (const auto& s : slices) {
    ++seed;
    INFO("slice axis ", s.attrs.axis, " [", s.attrs.start, ":", s.attrs.end, ":", s.attrs.step,
         "] squeeze ", s.attrs.squeeze, ", seed ", seed);
    check_against_cpu(float_case(ir::OpKind::kSlice, s.attrs, {random_input("x", x, seed)}, s.y),
                      "cuda.slice", 0.0);
  }
  const struct {
    ir::Shape x;
    std::vector<int64_t> perm;
    ir::Shape y;
  } transposes[] = {{{13}, {0}, {13}},
                    {{3, 96, 7}, {0, 2, 1}, {3, 7, 96}},
                    {{2, 3, 5, 7}, {2, 0, 3, 1}, {5, 2, 7, 3}}};
  for (const auto& t : transposes) {
    ++seed;
    INFO("transpose ", ir::shape_to_string(t.x), ", seed ", seed);
    check_against_cpu(float_case(ir::OpKind::kTranspose, ir::TransposeAttrs{t.perm},
                                 {random_input("x", t.x, seed)}, t.y),
                      "cuda.transpose", 0.0);
  }
  ++seed;
  INFO("reshape, seed ", seed);
  check_against_cpu(float_case(ir::OpKind::kReshape, ir::ReshapeAttrs{{0, -1}},
                               {random_input("x", {3, 96, 7}, seed)}, {3, 672}),
                    "cuda.reshape", 0.0);
  QRT_REQUIRE_GPU();
}

}  // namespace
}  // namespace qrt::testing
