// Per-op shape/dtype inference: hand-derived shapes for valid nodes, and messages naming the node
// for invalid ones.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "tests/ir/infer_test_util.h"

using namespace qrt::ir;
using namespace qrt::ir::testing;

namespace {
QuantParams per_channel(size_t channels, int32_t axis = 0) {
  QuantParams q;
  q.scheme = QuantScheme::kSymmetricPerChannel;
  q.axis = axis;
  q.scales.assign(channels, 0.5f);
  return q;
}
QuantParams nf4_block(int64_t block) {
  QuantParams q;
  q.scheme = QuantScheme::kNF4Block;
  q.block_size = block;
  return q;
}
}  // namespace

TEST_CASE("Linear: y = x·Wᵀ + b over leading dims") {
  CHECK(shape_of(infer_one(OpKind::kLinear, LinearAttrs{},
                           {f32({2, 5, 7}), f32({3, 7}), f32({3})})) == Shape{2, 5, 3});
  CHECK(shape_of(infer_one(OpKind::kLinear, LinearAttrs{}, {f32({Q, 7}), f32({3, 7})})) ==
        Shape{Q, 3});
  CHECK(shape_of(infer_one(OpKind::kLinear, LinearAttrs{}, {f32({7}), f32({1, 7})})) == Shape{1});
  // Absent bias written as kNoValue.
  CHECK(shape_of(infer_one(OpKind::kLinear, LinearAttrs{}, {f32({13, 7}), f32({3, 7}), kAbsent})) ==
        Shape{13, 3});

  SUBCASE("quantized weights keep x's dtype") {
    auto r = infer_one(OpKind::kLinear, LinearAttrs{},
                       {typed(DType::kF16, {Q, 7}), quantized(DType::kI8, {3, 7}, per_channel(3))});
    CHECK(shape_of(r) == Shape{Q, 3});
    CHECK(r->at(0).dtype == DType::kF16);
    auto n =
        infer_one(OpKind::kLinear, LinearAttrs{},
                  {typed(DType::kBF16, {2, 64}), quantized(DType::kNF4, {5, 64}, nf4_block(64))});
    CHECK(shape_of(n) == Shape{2, 5});
    CHECK(n->at(0).dtype == DType::kBF16);
  }
  SUBCASE("invalid") {
    check_fails(infer_one(OpKind::kLinear, LinearAttrs{}, {f32({2, 5}), f32({3, 7})}),
                "x has shape [2, 5]: dim 1 must be 7");
    check_fails(infer_one(OpKind::kLinear, LinearAttrs{}, {f32({2, 7}), f32({3, 7, 1})}),
                "weight has shape [3, 7, 1] (3 dims), expected 2 dims");
    check_fails(infer_one(OpKind::kLinear, LinearAttrs{}, {f32({2, 7}), f32({3, 7}), f32({4})}),
                "bias has shape [4]: dim 0 must be 3");
    check_fails(infer_one(OpKind::kLinear, LinearAttrs{}, {f32({2, 7}), typed(DType::kI8, {3, 7})}),
                "weight (i8) carries no quantization parameters");
    QuantParams affine;
    affine.scheme = QuantScheme::kAffinePerTensor;
    check_fails(infer_one(OpKind::kLinear, LinearAttrs{},
                          {f32({2, 7}), quantized(DType::kI8, {3, 7}, affine)}),
                "expected symmetric-per-tensor or symmetric-per-channel");
    check_fails(infer_one(OpKind::kLinear, LinearAttrs{},
                          {f32({2, 7}), quantized(DType::kI8, {3, 7}, per_channel(7, 1))}),
                "axis 1");
    check_fails(
        infer_one(OpKind::kLinear, LinearAttrs{}, {f32({2, 64}), typed(DType::kNF4, {3, 64})}),
        "needs nf4-block quantization parameters");
    check_fails(
        infer_one(OpKind::kLinear, LinearAttrs{}, {typed(DType::kI32, {2, 7}), f32({3, 7})}),
        "x has dtype i32");
    check_fails(infer_one(OpKind::kLinear, LinearAttrs{}, {f32({2, 7}), kAbsent}),
                "required input 1 (weight) is missing");
    check_fails(
        infer_one(OpKind::kLinear, LinearAttrs{}, {f32({2, 7}), f32({3, 7}), f32({3}), f32({3})}),
        "has 4 inputs, expected 2 to 3");
    check_fails(infer_one(OpKind::kLinear, SliceAttrs{}, {f32({2, 7}), f32({3, 7})}),
                "attributes have the wrong type");
    check_fails(infer_one(OpKind::kLinear, LinearAttrs{}, {f32({}), f32({3, 7})}), "x is a scalar");
  }
}

TEST_CASE("LSTM: batch-first, 4H gate rows, per-layer input size") {
  const int64_t h = 5;
  SUBCASE("one layer with biases and no initial state") {
    auto r = infer_one(OpKind::kLSTM, LstmAttrs{h, 1},
                       {f32({4, 10, 3}), kAbsent, kAbsent, f32({4 * h, 3}), f32({4 * h, h}),
                        f32({4 * h}), f32({4 * h})});
    CHECK(shape_of(r, 0) == Shape{4, 10, h});
    CHECK(shape_of(r, 1) == Shape{1, 4, h});
    CHECK(shape_of(r, 2) == Shape{1, 4, h});
  }
  SUBCASE("two layers, dynamic batch, layer 1 reads H") {
    auto r = infer_one(OpKind::kLSTM, LstmAttrs{h, 2},
                       {f32({Q, 11, 3}), f32({2, Q, h}), kAbsent, f32({4 * h, 3}), f32({4 * h, h}),
                        kAbsent, kAbsent, f32({4 * h, h}), f32({4 * h, h}), kAbsent, kAbsent});
    CHECK(shape_of(r, 0) == Shape{Q, 11, h});
    CHECK(shape_of(r, 1) == Shape{2, Q, h});
  }
  SUBCASE("h0 fixes a dynamic batch") {
    auto r = infer_one(OpKind::kLSTM, LstmAttrs{h, 1},
                       {f32({Q, 11, 3}), f32({1, 7, h}), f32({1, 7, h}), f32({4 * h, 3}),
                        f32({4 * h, h}), kAbsent, kAbsent});
    CHECK(shape_of(r, 0) == Shape{7, 11, h});
    CHECK(shape_of(r, 2) == Shape{1, 7, h});
  }
  SUBCASE("int8 weights") {
    auto r = infer_one(
        OpKind::kLSTM, LstmAttrs{h, 1},
        {f32({2, 3, 3}), kAbsent, kAbsent, quantized(DType::kI8, {4 * h, 3}, per_channel(4 * h)),
         quantized(DType::kI8, {4 * h, h}, per_channel(4 * h)), kAbsent, kAbsent});
    CHECK(shape_of(r, 0) == Shape{2, 3, h});
  }
  SUBCASE("invalid") {
    check_fails(infer_one(OpKind::kLSTM, LstmAttrs{h, 2},
                          {f32({4, 10, 3}), kAbsent, kAbsent, f32({4 * h, 3}), f32({4 * h, h}),
                           kAbsent, kAbsent, f32({4 * h, 3}), f32({4 * h, h}), kAbsent, kAbsent}),
                "w_ih of layer 1 has shape [20, 3]: dim 1 must be 5 (hidden_size)");
    check_fails(infer_one(OpKind::kLSTM, LstmAttrs{h, 2},
                          {f32({4, 10, 3}), kAbsent, kAbsent, f32({4 * h, 3}), f32({4 * h, h}),
                           kAbsent, kAbsent}),
                "expected 3 + 4 * num_layers = 11");
    check_fails(
        infer_one(OpKind::kLSTM, LstmAttrs{0, 1},
                  {f32({4, 10, 3}), kAbsent, kAbsent, f32({4, 3}), f32({4, 0}), kAbsent, kAbsent}),
        "hidden_size 0");
    check_fails(infer_one(OpKind::kLSTM, LstmAttrs{h, 1},
                          {f32({4, 10, 3}), f32({2, 4, h}), kAbsent, f32({4 * h, 3}),
                           f32({4 * h, h}), kAbsent, kAbsent}),
                "h0 [L, B, H] has shape [2, 4, 5]: dim 0 must be 1 (num_layers)");
    check_fails(
        infer_one(OpKind::kLSTM, LstmAttrs{h, 1},
                  {f32({4, 10, 3}), kAbsent, kAbsent, f32({4 * h, 3}), kAbsent, kAbsent, kAbsent}),
        "(w_hh of layer 0) is missing");
    check_fails(infer_one(OpKind::kLSTM, LstmAttrs{h, 1},
                          {f32({4, 10}), kAbsent, kAbsent, f32({4 * h, 3}), f32({4 * h, h}),
                           kAbsent, kAbsent}),
                "x [B, T, C] has shape [4, 10] (2 dims), expected 3 dims");
    check_fails(infer_one(OpKind::kLSTM, LstmAttrs{h, 1},
                          {f32({4, 10, 3}), kAbsent, kAbsent, f32({4 * h, 3}), f32({4 * h, h}),
                           f32({h}), kAbsent}),
                "b_ih of layer 0 has shape [5]: dim 0 must be 20 (4 * hidden_size)");
  }
}

TEST_CASE("LayerNorm: over the last dim, optional gamma/beta [D]") {
  CHECK(shape_of(infer_one(OpKind::kLayerNorm, LayerNormAttrs{},
                           {f32({2, 3, 7}), f32({7}), f32({7})})) == Shape{2, 3, 7});
  CHECK(shape_of(infer_one(OpKind::kLayerNorm, LayerNormAttrs{}, {f32({Q, Q}), f32({7})})) ==
        Shape{Q, Q});
  CHECK(shape_of(infer_one(OpKind::kLayerNorm, LayerNormAttrs{}, {f32({1})})) == Shape{1});
  CHECK(shape_of(infer_one(OpKind::kLayerNorm, LayerNormAttrs{},
                           {f32({2, 7}), kAbsent, f32({7})})) == Shape{2, 7});
  check_fails(infer_one(OpKind::kLayerNorm, LayerNormAttrs{0.0f}, {f32({2, 7})}),
              "must be finite and > 0");
  check_fails(infer_one(OpKind::kLayerNorm, LayerNormAttrs{std::nanf("")}, {f32({2, 7})}),
              "must be finite and > 0");
  check_fails(infer_one(OpKind::kLayerNorm, LayerNormAttrs{}, {f32({2, 7}), f32({6})}),
              "gamma has shape [6]: dim 0 must be 7");
  check_fails(infer_one(OpKind::kLayerNorm, LayerNormAttrs{}, {f32({2, 7}), f32({7}), f32({1, 7})}),
              "beta has shape [1, 7] (2 dims)");
}

TEST_CASE("activations keep shape and dtype") {
  for (OpKind op : {OpKind::kRelu, OpKind::kSilu, OpKind::kSigmoid, OpKind::kTanh}) {
    INFO(std::string(op_name(op)));
    auto r = infer_one(op, NoAttrs{}, {typed(DType::kBF16, {Q, 3, 1})});
    CHECK(shape_of(r) == Shape{Q, 3, 1});
    CHECK(r->at(0).dtype == DType::kBF16);
    check_fails(infer_one(op, NoAttrs{}, {typed(DType::kI8, {2})}), "x has dtype i8");
  }
  CHECK(shape_of(infer_one(OpKind::kLeakyRelu, LeakyReluAttrs{0.2f}, {f32({7})})) == Shape{7});
  CHECK(shape_of(infer_one(OpKind::kGelu, GeluAttrs{true}, {f32({2, 13})})) == Shape{2, 13});
  check_fails(infer_one(OpKind::kLeakyRelu, LeakyReluAttrs{INFINITY}, {f32({7})}),
              "negative_slope must be finite");
  check_fails(infer_one(OpKind::kGelu, NoAttrs{}, {f32({7})}), "attributes have the wrong type");
  check_fails(infer_one(OpKind::kRelu, NoAttrs{}, {f32({7}), f32({7})}),
              "has 2 inputs, expected 1");
}

TEST_CASE("Add/Sub/Mul broadcast like NumPy, dynamic dims included") {
  struct Case {
    Shape a, b, expected;
  };
  const Case cases[] = {
      {{2, 3, 4}, {4}, {2, 3, 4}},
      {{3, 1}, {1, 5}, {3, 5}},
      {{Q, 1}, {1, 5}, {Q, 5}},
      {{Q, 3}, {5, 1}, {5, 3}},
      {{Q}, {1}, {Q}},
      {{Q}, {Q}, {Q}},
      {{}, {2}, {2}},
      {{7, 1, 11}, {1, 13, 1}, {7, 13, 11}},
      {{1}, {Q, 2}, {Q, 2}},
  };
  for (OpKind op : {OpKind::kAdd, OpKind::kSub, OpKind::kMul}) {
    for (const Case& c : cases) {
      INFO(std::string(op_name(op))
           << " " << shape_to_string(c.a) << " with " << shape_to_string(c.b));
      CHECK(shape_of(infer_one(op, NoAttrs{}, {f32(c.a), f32(c.b)})) == c.expected);
      CHECK(shape_of(infer_one(op, NoAttrs{}, {f32(c.b), f32(c.a)})) == c.expected);
    }
  }
  check_fails(infer_one(OpKind::kAdd, NoAttrs{}, {f32({3}), f32({4})}),
              "shapes [3] and [4] do not broadcast");
  check_fails(infer_one(OpKind::kMul, NoAttrs{}, {f32({3}), typed(DType::kF16, {3})}),
              "different dtypes (f32 and f16)");
  check_fails(infer_one(OpKind::kSub, NoAttrs{}, {f32({3}), kAbsent}), "(b) is missing");
}

TEST_CASE("Reshape: 0 copies, one -1 inferred, element counts match") {
  auto reshape = [](Shape x, std::vector<int64_t> target) {
    return infer_one(OpKind::kReshape, ReshapeAttrs{std::move(target)}, {f32(std::move(x))});
  };
  CHECK(shape_of(reshape({2, 3, 4}, {0, -1})) == Shape{2, 12});
  CHECK(shape_of(reshape({2, 3, 4}, {-1})) == Shape{24});
  CHECK(shape_of(reshape({2, 3, 4}, {4, 0, 2})) == Shape{4, 3, 2});
  CHECK(shape_of(reshape({2, 3, 4}, {0, 0, 0, 1})) == Shape{2, 3, 4, 1});
  CHECK(shape_of(reshape({1}, {})) == Shape{});
  CHECK(shape_of(reshape({0, 5}, {-1, 5})) == Shape{0, 5});
  CHECK(shape_of(reshape({Q, 96, 7}, {0, -1})) == Shape{Q, 672});
  CHECK(shape_of(reshape({Q, 96, 7}, {0, 96, 7})) == Shape{Q, 96, 7});
  CHECK(shape_of(reshape({Q, 96, 7}, {-1, 7})) == Shape{Q, 7});
  CHECK(shape_of(reshape({2, Q}, {-1, 4})) == Shape{Q, 4});
  CHECK(shape_of(reshape({Q, 3}, {2, 9})) == Shape{2, 9});  // possible when ? = 6

  check_fails(reshape({2, 3, 4}, {-1, -1}), "more than one -1");
  check_fails(reshape({2, 3, 4}, {5, 5}), "element counts differ (24 vs 25)");
  check_fails(reshape({2, 3, 4}, {5, -1}), "cannot infer the -1");
  check_fails(reshape({2, 3, 4}, {-2, 12}), "target dim 0 is -2");
  check_fails(reshape({2, 3}, {0, 0, 0}), "target dim 2 is 0 (copy) but x has only 2 dims");
  check_fails(reshape({Q, 3}, {2, 8}), "not a multiple of x's static part (3)");
  check_fails(reshape({0, 5}, {0, -1}), "cannot infer the -1");
  check_fails(reshape({std::numeric_limits<int64_t>::max(), 3}, {-1}), "overflows");
}

TEST_CASE("Transpose: output dim i is input dim perm[i]") {
  auto transpose = [](Shape x, std::vector<int64_t> perm) {
    return infer_one(OpKind::kTranspose, TransposeAttrs{std::move(perm)}, {f32(std::move(x))});
  };
  CHECK(shape_of(transpose({2, 3, 5}, {2, 0, 1})) == Shape{5, 2, 3});
  CHECK(shape_of(transpose({Q, 3}, {1, 0})) == Shape{3, Q});
  CHECK(shape_of(transpose({}, {})) == Shape{});
  check_fails(transpose({2, 3, 5}, {0, 0, 1}), "not a permutation of 0..2");
  check_fails(transpose({2, 3, 5}, {0, 1}), "perm has 2 entries but x [2, 3, 5] has 3 dims");
  check_fails(transpose({2, 3, 5}, {0, 1, 3}), "perm entry 2 (3)");
  check_fails(transpose({2, 3, 5}, {-1, 0, 1}), "perm entry 0 (-1)");
}

TEST_CASE("Slice: Python semantics, clamping, squeeze") {
  constexpr int64_t kEnd = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  auto slice = [](Shape x, int64_t axis, int64_t start, int64_t end, int64_t step = 1,
                  bool squeeze = false) {
    return infer_one(OpKind::kSlice, SliceAttrs{axis, start, end, step, squeeze},
                     {f32(std::move(x))});
  };
  CHECK(shape_of(slice({4, 10, 3}, 1, -1, kEnd, 1, true)) == Shape{4, 3});  // x[:, -1]
  CHECK(shape_of(slice({4, 10, 3}, 1, 2, 8, 3)) == Shape{4, 2, 3});         // 2, 5
  CHECK(shape_of(slice({4, 10, 3}, 1, -100, 100)) == Shape{4, 10, 3});      // clamped
  CHECK(shape_of(slice({4, 10, 3}, 1, 5, 2)) == Shape{4, 0, 3});            // empty
  CHECK(shape_of(slice({4, 10, 3}, 1, 0, kEnd, 4)) == Shape{4, 3, 3});      // 0, 4, 8
  CHECK(shape_of(slice({4, 10, 3}, -1, 1, kEnd)) == Shape{4, 10, 2});
  CHECK(shape_of(slice({4, 10, 3}, 1, -3, -1)) == Shape{4, 2, 3});  // 7, 8
  CHECK(shape_of(slice({4, 10, 3}, 1, kMin, kEnd, kEnd)) == Shape{4, 1, 3});
  CHECK(shape_of(slice({4, 10, 3}, 0, 3, 4, 1, true)) == Shape{10, 3});
  CHECK(shape_of(slice({Q, 10}, 0, 0, 2)) == Shape{Q, 10});
  CHECK(shape_of(slice({Q, 10}, 0, -1, kEnd, 1, true)) == Shape{10});
  CHECK(shape_of(slice({2, Q}, 1, 1, 3)) == Shape{2, Q});

  check_fails(slice({4, 10}, 1, 0, 5, 0), "step 0 must be >= 1");
  check_fails(slice({4, 10}, 2, 0, 5), "axis 2 out of range for rank 2");
  check_fails(slice({4, 10}, 1, 0, 2, 1, true), "selects 2 elements, expected exactly 1");
  check_fails(slice({4, 10}, 1, 10, kEnd, 1, true), "selects 0 elements");
  check_fails(slice({Q, 10}, 0, 3, 3, 1, true), "selects no element");
  check_fails(slice({}, 0, 0, 1), "out of range for rank 0");
}

TEST_CASE("Concat: sums the axis, other dims agree") {
  auto concat = [](std::vector<Shape> xs, int64_t axis) {
    std::vector<std::optional<InputSpec>> in;
    for (auto& s : xs) in.push_back(f32(std::move(s)));
    return infer_one(OpKind::kConcat, ConcatAttrs{axis}, in);
  };
  CHECK(shape_of(concat({{2, 3}, {2, 5}}, 1)) == Shape{2, 8});
  CHECK(shape_of(concat({{2, 3}, {2, 5}, {2, 1}}, -1)) == Shape{2, 9});
  CHECK(shape_of(concat({{Q, 3}, {2, 3}}, 0)) == Shape{Q, 3});
  CHECK(shape_of(concat({{Q, 3}, {4, Q}}, 1)) == Shape{4, Q});
  CHECK(shape_of(concat({{7, 1}}, 0)) == Shape{7, 1});

  check_fails(concat({{2, 3}, {3, 3}}, 1), "x1 has shape [3, 3]: dim 0 must be 2");
  check_fails(concat({{2, 3}, {2, 3, 1}}, 1), "x1 has shape [2, 3, 1] (3 dims), expected 2 dims");
  check_fails(concat({{2, 3}}, 2), "axis 2 out of range");
  check_fails(concat({}, 0), "has 0 inputs, expected at least 1");
  check_fails(infer_one(OpKind::kConcat, ConcatAttrs{0}, {f32({2}), typed(DType::kF16, {2})}),
              "x1 has dtype f16 but x0 has f32");
  check_fails(infer_one(OpKind::kConcat, ConcatAttrs{0}, {f32({2}), kAbsent}), "(x1) is missing");
  check_fails(concat({{std::numeric_limits<int64_t>::max()}, {1}}, 0), "overflows");
}

TEST_CASE("generic checks before the op's rule") {
  check_fails(infer_one(static_cast<OpKind>(99), NoAttrs{}, {f32({2})}), "unknown op 99",
              "node 'n1' (invalid): ");
  check_fails(infer_one(OpKind::kRelu, NoAttrs{}, {f32({2, -2})}), "with a negative dim");
  check_fails(infer_one(OpKind::kReshape, NoAttrs{}, {f32({2})}), "attributes have the wrong type");
}
