// FakeQuant: the CPU kernel against the quantize -> dequantize primitives of ir/quantize.h (bit for
// bit), shape/attribute checks, and the backward (clipped STE, LSQ) on hand-computed cases and
// against finite differences where the function is differentiable.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "ir/quantize.h"
#include "tests/ops/kernel_runner.h"
#include "tests/support/random.h"
#include "train/op_gradient.h"

namespace qrt {
namespace {

using ir::FakeQuantAttrs;
using ir::FakeQuantMode;
using ir::Shape;

constexpr uint64_t kSeed = 20261123;

// A graph with one FakeQuant node "fq"; x, scale and zero_point are graph inputs (what a trainer
// feeds), scale / zero_point absent when their shape is not given.
ir::Graph fake_quant_graph(const FakeQuantAttrs& attrs, const Shape& x,
                           const std::optional<Shape>& scale = std::nullopt,
                           const std::optional<Shape>& zero_point = std::nullopt) {
  ir::Graph g;
  auto add_input = [&](const std::string& name, const Shape& shape) {
    g.values.push_back(ir::Value{name, ir::DType::kF32, shape, std::nullopt, std::nullopt});
    const auto id = static_cast<ir::ValueId>(g.values.size() - 1);
    g.inputs.push_back(id);
    return id;
  };
  ir::Node node;
  node.name = "fq";
  node.op = ir::OpKind::kFakeQuant;
  node.attrs = attrs;
  node.inputs.push_back(add_input("x", x));
  if (scale) node.inputs.push_back(add_input("scale", *scale));
  if (zero_point) {
    if (!scale) node.inputs.push_back(ir::kNoValue);
    node.inputs.push_back(add_input("zero_point", *zero_point));
  }
  testing::add_node_with_f32_outputs(g, std::move(node), {x});
  return g;
}

runtime::ConstTensorView view_of(const std::vector<float>& v, const Shape& shape) {
  return {ir::DType::kF32, shape, v.data(), runtime::Device::kCpu};
}

std::vector<float> run_fake_quant(const ir::Graph& g,
                                  const std::vector<runtime::ConstTensorView>& in) {
  Result<testing::KernelRunResult> r = testing::run_single_node_kernel(g, in);
  INFO(r.status().to_string());
  REQUIRE(r.is_ok());
  CHECK(r->kernel_name == "cpu.reference.fake_quant");
  return r->outputs[0];
}

// Bitwise equality, element by element, naming the first difference.
void check_bit_identical(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i)
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) {
      FAIL_CHECK("element " << i << ": got " << got[i] << ", want " << want[i]);
      return;
    }
  // Guards against passing on degenerate data.
  CHECK(testing::max_abs(want) > 0.0f);
}

std::vector<float> as_floats(const std::vector<int32_t>& v) {
  return std::vector<float>(v.begin(), v.end());
}

TEST_CASE("integer FakeQuant equals quantize -> dequantize bit for bit") {
  const Shape shapes[] = {{1}, {7}, {3, 5}, {1, 13}, {4, 1, 6}, {2, 3, 11}};
  uint64_t seed = kSeed;
  for (const Shape& shape : shapes) {
    const int64_t n = ir::numel(shape);
    const auto rank = static_cast<int>(shape.size());
    for (int bits : {2, 4, 8}) {
      for (int granularity = 0; granularity < 2; ++granularity) {
        for (int axis = -rank; axis < (granularity == 0 ? -rank + 1 : rank); ++axis) {
          ++seed;
          const std::vector<float> x = testing::random_normal(static_cast<size_t>(n), seed, 2.0f);
          INFO("seed " << seed << " shape " << ir::shape_to_string(shape) << " bits " << bits
                       << (granularity ? " per channel axis " + std::to_string(axis)
                                       : std::string(" per tensor")));
          ir::QuantizeSpec spec;
          spec.bits = bits;
          spec.granularity =
              granularity ? ir::Granularity::kPerChannel : ir::Granularity::kPerTensor;
          spec.axis = axis;
          const ir::FloatTensorView tv{x, shape};
          FakeQuantAttrs attrs;
          attrs.bits = bits;
          attrs.per_channel = granularity == 1;
          attrs.axis = axis;

          // Symmetric.
          Result<ir::QuantizedTensor> q = ir::quantize_symmetric(tv, spec);
          REQUIRE(q.is_ok());
          Result<std::vector<float>> ref = ir::dequantize(*q);
          REQUIRE(ref.is_ok());
          const Shape scale_shape{static_cast<int64_t>(q->params.scales.size())};
          attrs.symmetric = true;
          check_bit_identical(
              run_fake_quant(fake_quant_graph(attrs, shape, scale_shape),
                             {view_of(x, shape), view_of(q->params.scales, scale_shape)}),
              *ref);

          // Affine, both code ranges.
          for (bool unsigned_range : {true, false}) {
            INFO("affine " << (unsigned_range ? "unsigned" : "signed"));
            q = ir::quantize_affine(tv, spec, unsigned_range);
            REQUIRE(q.is_ok());
            ref = ir::dequantize(*q);
            REQUIRE(ref.is_ok());
            attrs.symmetric = false;
            attrs.unsigned_range = unsigned_range;
            const std::vector<float> zp = as_floats(q->params.zero_points);
            check_bit_identical(
                run_fake_quant(fake_quant_graph(attrs, shape, scale_shape, scale_shape),
                               {view_of(x, shape), view_of(q->params.scales, scale_shape),
                                view_of(zp, scale_shape)}),
                *ref);
            attrs.unsigned_range = false;
          }
        }
      }
    }
  }
}

TEST_CASE("integer FakeQuant clips with a small scale: s·(clamp(round(x/s) + z) - z)") {
  const Shape shape{3, 17};
  const std::vector<float> x = testing::random_normal(51, kSeed + 7, 3.0f);
  MESSAGE("seed " << kSeed + 7);
  FakeQuantAttrs attrs;
  attrs.bits = 4;
  attrs.symmetric = false;
  attrs.per_channel = true;
  const std::vector<float> scale = {0.05f, 0.3f, 1.7f};       // the first two clip many elements
  const std::vector<float> zero_point = {-3.4f, 0.0f, 6.5f};  // rounds to -3, 0, 6 (half to even)
  const std::vector<float> y =
      run_fake_quant(fake_quant_graph(attrs, shape, Shape{3}, Shape{3}),
                     {view_of(x, shape), view_of(scale, {3}), view_of(zero_point, {3})});
  const int z[] = {-3, 0, 6};
  int clipped = 0;
  for (int c = 0; c < 3; ++c)
    for (int k = 0; k < 17; ++k) {
      const float v = x[static_cast<size_t>(c * 17 + k)];
      const float t = std::nearbyint(v / scale[static_cast<size_t>(c)]) + static_cast<float>(z[c]);
      const float code = std::fmin(std::fmax(t, -8.0f), 7.0f);  // signed 4-bit range [-8, 7]
      clipped += code != t;
      const float want = scale[static_cast<size_t>(c)] * (code - static_cast<float>(z[c]));
      CHECK(y[static_cast<size_t>(c * 17 + k)] == want);
    }
  CHECK(clipped > 5);  // the case exercises the clamp
}

TEST_CASE("NF4 FakeQuant equals quantize_nf4 -> dequantize_nf4 bit for bit") {
  const Shape shapes[] = {{1, 32}, {3, 64}, {2, 5, 128}, {7, 256}};
  uint64_t seed = kSeed + 100;
  for (const Shape& shape : shapes)
    for (int64_t block : {32, 64})
      for (bool double_quant : {false, true}) {
        if (shape.back() % block != 0) continue;
        ++seed;
        INFO("seed " << seed << " shape " << ir::shape_to_string(shape) << " block " << block
                     << " double_quant " << double_quant);
        const int64_t n = ir::numel(shape);
        const std::vector<float> x = testing::random_normal(static_cast<size_t>(n), seed);
        const Shape rows{n / shape.back(), shape.back()};
        Result<ir::Nf4Weight> q = ir::quantize_nf4({x, rows}, block, double_quant);
        REQUIRE(q.is_ok());
        Result<std::vector<float>> ref = ir::dequantize_nf4(q->packed, rows, q->params);
        REQUIRE(ref.is_ok());
        FakeQuantAttrs attrs;
        attrs.mode = FakeQuantMode::kNF4;
        attrs.block_size = block;
        attrs.double_quant = double_quant;
        check_bit_identical(run_fake_quant(fake_quant_graph(attrs, shape), {view_of(x, shape)}),
                            *ref);
      }
}

// The message of verify() on a one-node FakeQuant graph, "" when it passes.
std::string verify_message(const ir::Graph& g) {
  const Status s = ir::verify(g);
  return s.is_ok() ? "" : s.message();
}

TEST_CASE("verify rejects bad FakeQuant attributes and shapes with clear messages") {
  FakeQuantAttrs a;
  CHECK(verify_message(fake_quant_graph(a, {4, 6}, Shape{1})) == "");
  a.per_channel = true;
  CHECK(verify_message(fake_quant_graph(a, {4, 6}, Shape{4})) == "");
  a.axis = -1;
  CHECK(verify_message(fake_quant_graph(a, {4, 6}, Shape{6})) == "");

  struct Case {
    const char* what;
    FakeQuantAttrs attrs;
    Shape x;
    std::optional<Shape> scale, zero_point;
    const char* expected;
  };
  FakeQuantAttrs bits9;
  bits9.bits = 9;
  FakeQuantAttrs bits1;
  bits1.bits = 1;
  FakeQuantAttrs axis5;
  axis5.per_channel = true;
  axis5.axis = 5;
  FakeQuantAttrs per_channel;
  per_channel.per_channel = true;
  FakeQuantAttrs affine;
  affine.symmetric = false;
  FakeQuantAttrs nf4;
  nf4.mode = FakeQuantMode::kNF4;
  FakeQuantAttrs nf4_block;
  nf4_block.mode = FakeQuantMode::kNF4;
  nf4_block.block_size = 48;
  FakeQuantAttrs bad_mode;
  bad_mode.mode = static_cast<FakeQuantMode>(7);
  const Case cases[] = {
      {"bits 9", bits9, {4}, Shape{1}, std::nullopt, "bits 9 outside 2..8"},
      {"bits 1", bits1, {4}, Shape{1}, std::nullopt, "bits 1 outside 2..8"},
      {"axis", axis5, {4, 6}, Shape{4}, std::nullopt, "axis 5 is out of range"},
      {"scale count", per_channel, {4, 6}, Shape{6}, std::nullopt, "scale has shape [6]"},
      {"per-tensor scale", FakeQuantAttrs{}, {4, 6}, Shape{4}, std::nullopt, "scale has shape [4]"},
      {"no scale", FakeQuantAttrs{}, {4}, std::nullopt, std::nullopt, "scale) is missing"},
      {"zp on symmetric", FakeQuantAttrs{}, {4}, Shape{1}, Shape{1}, "takes no zero_point"},
      {"affine without zp", affine, {4}, Shape{1}, std::nullopt, "needs a zero_point"},
      {"zp shape", affine, {4}, Shape{1}, Shape{2}, "zero_point has shape [2]"},
      {"nf4 with scale", nf4, {2, 64}, Shape{1}, std::nullopt, "takes no scale"},
      {"nf4 block", nf4_block, {2, 96}, std::nullopt, std::nullopt, "block size 48"},
      {"nf4 row", nf4, {2, 96}, std::nullopt, std::nullopt, "does not divide the last dim 96"},
      {"mode", bad_mode, {4}, Shape{1}, std::nullopt, "unknown mode 7"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const std::string m = verify_message(fake_quant_graph(c.attrs, c.x, c.scale, c.zero_point));
    INFO(m);
    CHECK(m.find(c.expected) != std::string::npos);
    CHECK(m.find("'fq' (FakeQuant)") != std::string::npos);
  }
}

TEST_CASE("verify rejects a constant scale that is not finite and > 0") {
  ir::Graph g = fake_quant_graph(FakeQuantAttrs{}, {4}, Shape{1});
  const float bad = -0.5f;
  g.inputs = {0};  // the scale becomes a constant
  g.values[1].data = ir::ConstantData::copy_of(&bad, sizeof(bad)).value();
  const std::string m = verify_message(g);
  INFO(m);
  CHECK(m.find("scale 'scale' value #0 is -0.5") != std::string::npos);
}

TEST_CASE("the kernel rejects a non-positive scale and non-finite x at run time") {
  const ir::Graph g = fake_quant_graph(FakeQuantAttrs{}, {3}, Shape{1});
  const std::vector<float> x = {1.0f, 2.0f, 3.0f}, zero = {0.0f}, nan_x = {1.0f, NAN, 0.0f};
  const std::vector<float> one = {1.0f};
  Result<testing::KernelRunResult> r =
      testing::run_single_node_kernel(g, {view_of(x, {3}), view_of(zero, {1})});
  REQUIRE(!r.is_ok());
  CHECK(r.status().message().find("scale #0 is 0") != std::string::npos);
  r = testing::run_single_node_kernel(g, {view_of(nan_x, {3}), view_of(one, {1})});
  REQUIRE(!r.is_ok());
  CHECK(r.status().message().find("x element 1") != std::string::npos);
}

// ---- backward ----

struct Grads {
  std::vector<float> dx, ds, dz;
};

// Runs train::backward for the one FakeQuant of `g` with upstream gradient dy; gradient buffers
// start at `initial` so that accumulation (+=) is visible.
Grads backward(const ir::Graph& g, const std::vector<float>& x, const Shape& x_shape,
               const std::vector<float>& scale, const std::vector<float>& zero_point,
               const std::vector<float>& dy, float initial = 0.0f) {
  const ir::Node& node = g.nodes[0];
  std::vector<runtime::ConstTensorView> inputs = {view_of(x, x_shape)};
  const Shape c{static_cast<int64_t>(scale.size())};
  Grads grads{std::vector<float>(x.size(), initial), std::vector<float>(scale.size(), initial),
              std::vector<float>(zero_point.size(), initial)};
  std::vector<runtime::TensorView> input_grads = {
      {ir::DType::kF32, x_shape, grads.dx.data(), runtime::Device::kCpu}};
  if (!scale.empty()) {
    inputs.push_back(view_of(scale, c));
    input_grads.push_back({ir::DType::kF32, c, grads.ds.data(), runtime::Device::kCpu});
  }
  if (!zero_point.empty()) {
    inputs.push_back(view_of(zero_point, c));
    input_grads.push_back({ir::DType::kF32, c, grads.dz.data(), runtime::Device::kCpu});
  }
  const std::vector<float> y = run_fake_quant(g, inputs);
  const std::vector<runtime::ConstTensorView> outputs = {view_of(y, x_shape)};
  const std::vector<runtime::ConstTensorView> output_grads = {view_of(dy, x_shape)};
  const Status s = train::backward({g, node, inputs, outputs, output_grads, input_grads});
  INFO(s.to_string());
  REQUIRE(s.is_ok());
  return grads;
}

// Float rounding of the few products and sums in a hand-computed gradient.
constexpr double kHandTolerance = 1e-6;

TEST_CASE("symmetric backward: clipped STE mask and LSQ scale gradient by hand") {
  // bits 3: qmin = -3, qmax = 3, s = 0.25. x / s = -4, 1.04, 2, 8 -> clipped below, inside,
  // inside, clipped above.
  FakeQuantAttrs attrs;
  attrs.bits = 3;
  attrs.learnable_scale = true;
  const ir::Graph g = fake_quant_graph(attrs, {4}, Shape{1});
  CHECK(train::has_gradient(g.nodes[0]));
  const std::vector<float> x = {-1.0f, 0.26f, 0.5f, 2.0f}, dy = {1.0f, 2.0f, 3.0f, 4.0f};
  const Grads grads = backward(g, x, {4}, {0.25f}, {}, dy, /*initial=*/0.5f);
  // dx = dy inside the range, 0 outside (plus the initial 0.5: gradients accumulate).
  CHECK(grads.dx == std::vector<float>{0.5f, 2.5f, 3.5f, 0.5f});
  // dL/ds = g · Σ dy·(qmin - z | round(v) - v | qmax - z), g = 1 / sqrt(numel · qmax).
  const double v1 = static_cast<double>(0.26f / 0.25f);
  const double sum = 1.0 * -3.0 + 2.0 * (1.0 - v1) + 3.0 * 0.0 + 4.0 * 3.0;
  const double expected = 0.5 + sum / std::sqrt(4.0 * 3.0);
  CHECK(grads.ds[0] == doctest::Approx(expected).epsilon(kHandTolerance));
  // PyTorch 1.13 agrees: torch._fake_quantize_learnable_per_tensor_affine(x, s, 0, -3, 3,
  // grad_factor=1/sqrt(12)) gives x.grad [0, 2, 3, 0] and scale.grad 2.5750 (0.5 added here).
  CHECK(grads.ds[0] == doctest::Approx(0.5 + 2.5750).epsilon(1e-4));
}

TEST_CASE("affine backward: masks, LSQ scale and LSQ+ zero point gradients by hand") {
  // bits 2 unsigned: [0, 3]; s = 0.5, stored zero point 1.2 -> z = 1.
  // x / s = -2, 0.4, 2.4, -1.2 -> round + z = -1 (below), 1, 3, 0 (inside).
  FakeQuantAttrs attrs;
  attrs.bits = 2;
  attrs.symmetric = false;
  attrs.unsigned_range = true;
  attrs.learnable_scale = true;
  const ir::Graph g = fake_quant_graph(attrs, {2, 2}, Shape{1}, Shape{1});
  const std::vector<float> x = {-1.0f, 0.2f, 1.2f, -0.6f}, dy = {1.0f, 1.0f, 1.0f, 1.0f};
  const Grads grads = backward(g, x, {2, 2}, {0.5f}, {1.2f}, dy);
  CHECK(grads.dx == std::vector<float>{0.0f, 1.0f, 1.0f, 1.0f});
  const double gs = 1.0 / std::sqrt(4.0 * 3.0);
  const double terms = -1.0 + (0.0 - static_cast<double>(0.2f / 0.5f)) +
                       (2.0 - static_cast<double>(1.2f / 0.5f)) +
                       (-1.0 - static_cast<double>(-0.6f / 0.5f));
  CHECK(grads.ds[0] == doctest::Approx(gs * terms).epsilon(kHandTolerance));
  CHECK(grads.dz[0] == doctest::Approx(gs * -0.5).epsilon(kHandTolerance));
  // PyTorch 1.13 (torch._fake_quantize_learnable_per_tensor_affine, quant range [0, 3],
  // grad_factor 1/sqrt(12)): scale.grad -0.4619, zero_point.grad -0.1443.
  CHECK(grads.ds[0] == doctest::Approx(-0.4619).epsilon(1e-3));
  CHECK(grads.dz[0] == doctest::Approx(-0.1443).epsilon(1e-3));
}

TEST_CASE("a fixed scale gets no gradient; NF4 is straight-through") {
  FakeQuantAttrs attrs;  // learnable_scale = false
  const ir::Graph g = fake_quant_graph(attrs, {3}, Shape{1});
  const Grads grads = backward(g, {0.1f, 5.0f, -0.2f}, {3}, {0.01f}, {}, {1.0f, 1.0f, 1.0f});
  CHECK(grads.ds[0] == 0.0f);
  CHECK(grads.dx == std::vector<float>{1.0f, 0.0f, 1.0f});  // 5 / 0.01 = 500 > 127: clipped

  FakeQuantAttrs nf4;
  nf4.mode = FakeQuantMode::kNF4;
  nf4.block_size = 32;
  const ir::Graph gn = fake_quant_graph(nf4, {2, 32});
  const std::vector<float> x = testing::random_normal(64, kSeed + 9);
  const std::vector<float> dy = testing::random_normal(64, kSeed + 10);
  MESSAGE("seeds " << kSeed + 9 << ", " << kSeed + 10);
  CHECK(backward(gn, x, {2, 32}, {}, {}, dy).dx == dy);
}

TEST_CASE("per-channel LSQ gradients sum per channel and match finite differences when clipped") {
  // Where every element is clipped, y = s·(edge - z) is linear in s and in z, so the true
  // derivative exists and LSQ's dL/ds / g and dL/dz / g must equal it. x lies in 4..8 quantization
  // ranges away, on both sides.
  const uint64_t seed = kSeed + 20;
  MESSAGE("seed " << seed);
  const Shape shape{5, 3, 7};  // axis 1: 3 channels of 5·7 elements
  const int64_t n = ir::numel(shape);
  FakeQuantAttrs attrs;
  attrs.bits = 5;
  attrs.symmetric = false;
  attrs.per_channel = true;
  attrs.axis = 1;
  attrs.learnable_scale = true;
  const ir::FakeQuantRange range = ir::fake_quant_range(attrs);  // [-16, 15]
  const std::vector<float> scale = {0.1f, 0.02f, 0.5f}, zero_point = {3.0f, -2.0f, 0.0f};
  std::vector<float> x = testing::random_floats(static_cast<size_t>(n), seed, 4.0f, 8.0f);
  const std::vector<float> sign = testing::random_floats(static_cast<size_t>(n), seed + 1);
  for (int64_t i = 0; i < n; ++i) {
    const size_t c = static_cast<size_t>((i / 7) % 3);
    x[static_cast<size_t>(i)] *= scale[c] * 32.0f * (sign[static_cast<size_t>(i)] < 0 ? -1 : 1);
  }
  const std::vector<float> dy = testing::random_normal(static_cast<size_t>(n), seed + 2);
  const ir::Graph g = fake_quant_graph(attrs, shape, Shape{3}, Shape{3});
  const Grads grads = backward(g, x, shape, scale, zero_point, dy);
  CHECK(testing::max_abs(grads.dx) == 0.0f);  // everything clipped: the STE passes nothing

  const double gs = 1.0 / std::sqrt(static_cast<double>(n) * range.qmax);
  // L(s, z) = Σ dy · FakeQuant(x; s, z), evaluated by the kernel.
  auto loss = [&](const std::vector<float>& s, const std::vector<float>& z) {
    const std::vector<float> y =
        run_fake_quant(g, {view_of(x, shape), view_of(s, {3}), view_of(z, {3})});
    double l = 0.0;
    for (size_t i = 0; i < y.size(); ++i) l += static_cast<double>(dy[i]) * y[i];
    return l;
  };
  // Relative step for s (L is linear in s here, so only float rounding of y limits accuracy);
  // z is an integer: a step of 1 is exact for a linear function.
  constexpr float kScaleStep = 1e-2f;
  constexpr double kFdTolerance = 2e-3;  // float32 forward, relative
  for (size_t c = 0; c < 3; ++c) {
    INFO("channel " << c);
    std::vector<float> up = scale, down = scale;
    up[c] *= 1.0f + kScaleStep;
    down[c] *= 1.0f - kScaleStep;
    const double fd_s = (loss(up, zero_point) - loss(down, zero_point)) /
                        (static_cast<double>(up[c]) - static_cast<double>(down[c]));
    CHECK(grads.ds[c] / gs == doctest::Approx(fd_s).epsilon(kFdTolerance));
    CHECK(std::fabs(fd_s) > 1e-3);
    std::vector<float> z_up = zero_point, z_down = zero_point;
    z_up[c] += 1.0f;
    z_down[c] -= 1.0f;
    const double fd_z = (loss(scale, z_up) - loss(scale, z_down)) / 2.0;
    CHECK(grads.dz[c] / gs == doctest::Approx(fd_z).epsilon(kFdTolerance));
  }
}

}  // namespace
}  // namespace qrt
