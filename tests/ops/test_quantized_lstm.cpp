// Quantized LSTM kernels: every precision against the f32 LSTM (itself tested against float64 in
// test_lstm.cpp) with per-precision error bounds; the weight-only precisions also against the f32
// LSTM run on their dequantized weights, which isolates the shared recurrence (must agree to float
// rounding); supports() rejections.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>

#include "ir/half.h"
#include "ir/quantize.h"
#include "ops/register.h"
#include "runtime/session.h"
#include "tests/ops/quantized_harness.h"
#include "tests/support/random.h"

namespace qrt::testing {
namespace {

struct LstmDims {
  int64_t B, T, C, H, L;
  bool with_state;  // h0 / c0 given
};

struct FloatLstm {
  LstmDims d;
  std::vector<float> x, h0, c0;
  std::vector<std::vector<float>> w;  // per layer: w_ih, w_hh, b_ih, b_hh
};

FloatLstm random_lstm(const LstmDims& d, uint64_t seed) {
  FloatLstm f{d, random_floats(d.B * d.T * d.C, seed), {}, {}, {}};
  if (d.with_state) {
    f.h0 = random_floats(d.L * d.B * d.H, seed + 1, -0.5f, 0.5f);
    f.c0 = random_floats(d.L * d.B * d.H, seed + 2, -0.5f, 0.5f);
  }
  // PyTorch's init: U(-1/sqrt(H), 1/sqrt(H)).
  const float r = 1.0f / std::sqrt(static_cast<float>(d.H));
  for (int64_t l = 0; l < d.L; ++l) {
    const int64_t in = l == 0 ? d.C : d.H;
    const uint64_t s = seed + 100 * (l + 1);
    f.w.push_back(random_floats(4 * d.H * in, s, -r, r));
    f.w.push_back(random_floats(4 * d.H * d.H, s + 1, -r, r));
    f.w.push_back(random_floats(4 * d.H, s + 2, -r, r));
    f.w.push_back(random_floats(4 * d.H, s + 3, -r, r));
  }
  return f;
}

// Builds the weight input of layer l, matrix m (0: w_ih, 1: w_hh) from its float values.
using WeightMaker = std::function<QInput(const std::string& name, const ir::Shape& shape,
                                         const std::vector<float>&)>;

QCase lstm_case(const FloatLstm& f, const std::string& precision, const WeightMaker& make_weight,
                std::optional<ir::QuantParams> x_quant = std::nullopt) {
  const LstmDims& d = f.d;
  QCase c;
  c.op = ir::OpKind::kLSTM;
  c.attrs = ir::LstmAttrs{d.H, d.L};
  c.precision.precision = precision;
  c.inputs.push_back(f32_input("x", {d.B, d.T, d.C}, f.x, x_quant));
  if (d.with_state) {
    c.inputs.push_back(f32_input("h0", {d.L, d.B, d.H}, f.h0));
    c.inputs.push_back(f32_input("c0", {d.L, d.B, d.H}, f.c0));
  } else {
    c.inputs.push_back(absent_input());
    c.inputs.push_back(absent_input());
  }
  for (int64_t l = 0; l < d.L; ++l) {
    const int64_t in = l == 0 ? d.C : d.H;
    const std::string sfx = std::to_string(l);
    c.inputs.push_back(make_weight("w_ih" + sfx, {4 * d.H, in}, f.w[4 * l]));
    c.inputs.push_back(make_weight("w_hh" + sfx, {4 * d.H, d.H}, f.w[4 * l + 1]));
    c.inputs.push_back(f32_constant("b_ih" + sfx, {4 * d.H}, f.w[4 * l + 2]));
    c.inputs.push_back(f32_constant("b_hh" + sfx, {4 * d.H}, f.w[4 * l + 3]));
  }
  c.output_shapes = {{d.B, d.T, d.H}, {d.L, d.B, d.H}, {d.L, d.B, d.H}};
  return c;
}

QInput f32_weight(const std::string& name, const ir::Shape& shape, const std::vector<float>& w) {
  return f32_constant(name, shape, w);
}

QInput int8_weight(const std::string& name, const ir::Shape& shape, const std::vector<float>& w) {
  auto q = ir::quantize_weight_per_channel({w, shape});
  REQUIRE(q.is_ok());
  return raw_constant(name, ir::DType::kI8, shape, q->codes.data(), q->codes.size(), q->params);
}

QInput dequantized_int8_weight(const std::string& name, const ir::Shape& shape,
                               const std::vector<float>& w) {
  auto q = ir::quantize_weight_per_channel({w, shape});
  REQUIRE(q.is_ok());
  std::vector<float> dq(w.size());
  for (int64_t n = 0; n < shape[0]; ++n)
    for (int64_t k = 0; k < shape[1]; ++k)
      dq[n * shape[1] + k] = q->params.scales[n] * q->codes[n * shape[1] + k];
  return f32_constant(name, shape, dq);
}

constexpr int64_t kNf4Block = 32;

QInput nf4_weight(const std::string& name, const ir::Shape& shape, const std::vector<float>& w) {
  auto q = ir::quantize_nf4({w, shape}, kNf4Block, /*double_quant=*/true);
  REQUIRE(q.is_ok());
  return raw_constant(name, ir::DType::kNF4, shape, q->packed.data(), q->packed.size(), q->params);
}

QInput dequantized_nf4_weight(const std::string& name, const ir::Shape& shape,
                              const std::vector<float>& w) {
  auto q = ir::quantize_nf4({w, shape}, kNf4Block, /*double_quant=*/true);
  REQUIRE(q.is_ok());
  auto dq = ir::dequantize_nf4(q->packed, shape, q->params);
  REQUIRE(dq.is_ok());
  return f32_constant(name, shape, *dq);
}

WeightMaker half_weight(bool bf16) {
  return [bf16](const std::string& name, const ir::Shape& shape, const std::vector<float>& w) {
    std::vector<uint16_t> h(w.size());
    for (std::size_t i = 0; i < w.size(); ++i)
      h[i] = bf16 ? ir::float_to_bf16_bits(w[i]) : ir::float_to_f16_bits(w[i]);
    return raw_constant(name, bf16 ? ir::DType::kBF16 : ir::DType::kF16, shape, h.data(),
                        h.size() * 2, std::nullopt);
  };
}

double max_error(const QRun& a, const QRun& b) {
  double e = 0;
  for (std::size_t o = 0; o < a.outputs.size(); ++o)
    e = std::max<double>(e, max_abs_diff(a.outputs[o], b.outputs[o]));
  return e;
}

const LstmDims kDims[] = {
    {1, 1, 32, 32, 1, false}, {3, 6, 64, 32, 2, true}, {2, 5, 32, 64, 1, true}};

// Largest |quantized − f32| over y, h_n, c_n allowed for each precision, on these unit-range
// inputs and PyTorch-initialized weights. The error comes from each precision's rounding step
// (fp16 2^-11 and bf16 2^-8 relative; int8 weights per channel max|w|/254 per element;
// dynamic/static int8 add an activation step of max|x|/254; NF4 roughly absmax/20 per element),
// summed over K products and carried through the recurrence. The bounds are about three times the
// largest error these seeds produce (fp16 3e-4, bf16 1.7e-3, w8a16 2.8e-3, int8-dynamic 3.2e-3,
// int8-static 6.7e-3, nf4 6.9e-2), tight enough that a wrong scale or a skipped step fails.
constexpr double kMaxErrorFp16 = 1e-3;
constexpr double kMaxErrorBf16 = 6e-3;
constexpr double kMaxErrorW8A16 = 1e-2;
constexpr double kMaxErrorInt8Dynamic = 1e-2;
constexpr double kMaxErrorInt8Static = 2e-2;
constexpr double kMaxErrorNf4 = 0.2;
// Same weights, f32 arithmetic in another summation order, through T steps: float rounding only.
constexpr double kSameWeightsTolerance = 2e-5;

TEST_CASE("quantized LSTM vs f32 LSTM, every precision") {
  uint64_t seed = 7000;
  for (const LstmDims& d : kDims) {
    ++seed;
    INFO("seed " << seed << " B " << d.B << " T " << d.T << " C " << d.C << " H " << d.H << " L "
                 << d.L << " state " << d.with_state);
    const FloatLstm f = random_lstm(d, seed);
    auto reference = run_quantized_op(lstm_case(f, "fp32", f32_weight));
    REQUIRE_MESSAGE(reference.is_ok(), reference.status().to_string());
    REQUIRE(reference->kernel == "cpu.reference.lstm");
    CHECK(max_abs(reference->outputs[0]) > 0.01f);

    ir::QuantParams sym;
    sym.scheme = ir::QuantScheme::kSymmetricPerTensor;
    sym.scales = {1.0f / 127.0f};  // x in [-1, 1)
    ir::QuantParams affine;
    affine.scheme = ir::QuantScheme::kAffinePerTensor;
    affine.scales = {2.0f / 255.0f};
    affine.zero_points = {128};

    struct Variant {
      std::string precision;
      WeightMaker weight;
      std::optional<ir::QuantParams> x_quant;
      double bound;
    };
    const Variant variants[] = {
        {"fp16", half_weight(false), std::nullopt, kMaxErrorFp16},
        {"bf16", half_weight(true), std::nullopt, kMaxErrorBf16},
        {"w8a16", int8_weight, std::nullopt, kMaxErrorW8A16},
        {"int8-dynamic", int8_weight, std::nullopt, kMaxErrorInt8Dynamic},
        {"int8-static", int8_weight, sym, kMaxErrorInt8Static},
        {"int8-static", int8_weight, affine, kMaxErrorInt8Static},
        {"nf4", nf4_weight, std::nullopt, kMaxErrorNf4},
    };
    for (const Variant& v : variants) {
      const std::string label =
          v.precision + (v.x_quant && !v.x_quant->zero_points.empty() ? " (affine x)" : "");
      INFO("precision " << label);
      auto got = run_quantized_op(lstm_case(f, v.precision, v.weight, v.x_quant));
      REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
      CHECK(got->kernel == "cpu.reference.lstm." + v.precision);
      const double err = max_error(*got, *reference);
      MESSAGE(label << " max |error| vs f32: " << err);
      CHECK(err <= v.bound);
      CHECK(err > 0.0);  // it really ran in the lower precision
    }
  }
}

TEST_CASE("weight-only LSTM equals the f32 LSTM on the dequantized weights") {
  uint64_t seed = 7100;
  for (const LstmDims& d : kDims) {
    ++seed;
    INFO("seed " << seed << " B " << d.B << " T " << d.T << " C " << d.C << " H " << d.H);
    const FloatLstm f = random_lstm(d, seed);
    for (bool nf4 : {false, true}) {
      INFO("nf4 " << nf4);
      auto got =
          run_quantized_op(lstm_case(f, nf4 ? "nf4" : "w8a16", nf4 ? nf4_weight : int8_weight));
      auto want = run_quantized_op(
          lstm_case(f, "fp32", nf4 ? dequantized_nf4_weight : dequantized_int8_weight));
      REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
      REQUIRE_MESSAGE(want.is_ok(), want.status().to_string());
      CHECK(max_error(*got, *want) <= kSameWeightsTolerance);
    }
  }
}

TEST_CASE("quantized LSTM: supports() rejects mismatched forms") {
  const LstmDims d{2, 3, 32, 32, 2, false};
  const FloatLstm f = random_lstm(d, 7200);
  CHECK(selected_kernel(lstm_case(f, "int8-dynamic", int8_weight)) ==
        "cpu.reference.lstm.int8-dynamic");
  CHECK(selected_kernel(lstm_case(f, "int8-dynamic", f32_weight)) == "");
  CHECK(selected_kernel(lstm_case(f, "fp32", int8_weight)) == "");
  CHECK(selected_kernel(lstm_case(f, "int8-static", int8_weight)) == "");  // x not calibrated
  CHECK(selected_kernel(lstm_case(f, "fp16", half_weight(true))) == "");   // bf16 weights
  CHECK(selected_kernel(lstm_case(f, "nf4", int8_weight)) == "");
  // One layer's w_hh in another form.
  QCase mixed = lstm_case(f, "w8a16", int8_weight);
  mixed.inputs[3 + 4 + 1] = f32_weight("w_hh1", {4 * d.H, d.H}, f.w[5]);
  CHECK(selected_kernel(mixed) == "");
}

// The forecaster's shape: C = 7 input features. The layer-0 input projection (K = 7) runs from f32
// weights decoded at prepare (the dispatch rule of ops/quantized/projection.cpp), the session says
// so, and the result stays within the precision's bound of the f32 LSTM.
TEST_CASE("LSTM with a short input projection: decoded f32 there, visible in kernel_names") {
  const LstmDims d{1, 9, 7, 32, 2, false};
  const uint64_t seed = 7300;
  MESSAGE("seed " << seed);
  const FloatLstm f = random_lstm(d, seed);
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  for (const char* precision : {"int8-dynamic", "w8a16"}) {
    INFO(precision);
    const QCase c = lstm_case(f, precision, int8_weight);
    auto graph = std::make_shared<const ir::Graph>(quantized_graph(c));
    auto session = runtime::Session::create(graph, registry, {runtime::Device::kCpu, true});
    REQUIRE_MESSAGE(session.is_ok(), session.status().to_string());
    const std::vector<std::string> kernels = (*session)->kernel_names();
    REQUIRE(kernels.size() == 1);
    MESSAGE(kernels[0]);
    CHECK(kernels[0].find("w_ih of layer 0: f32 weights decoded at prepare, K=7 < 16") !=
          std::string::npos);
    auto got = run_quantized_op(c);
    auto reference = run_quantized_op(lstm_case(f, "fp32", f32_weight));
    REQUIRE(got.is_ok());
    REQUIRE(reference.is_ok());
    CHECK(max_abs(reference->outputs[0]) > 0.01f);
    CHECK(max_error(*got, *reference) <= kMaxErrorInt8Dynamic);
  }
}

TEST_CASE("int8 LSTM rejects a NaN input, naming its row of [B·T, C]") {
  // T = 4: one input-projection call; T = 40: chunks of 32 steps gathered from 3 batch rows; with
  // the outlier threshold and an outlier in the NaN's chunk, calls of one step's B rows. The row
  // stays global.
  struct Case {
    int64_t T, step;
    const char* row;
  };
  const Case cases[] = {{4, 1, "row 9,"}, {40, 35, "row 115,"}};  // batch 2: row 2·T + step
  ir::QuantParams sym;
  sym.scheme = ir::QuantScheme::kSymmetricPerTensor;
  sym.scales = {1.0f / 127.0f};
  struct Variant {
    const char* precision;
    std::optional<ir::QuantParams> x_quant;
    float outlier_threshold;
  };
  const Variant variants[] = {
      {"int8-dynamic", std::nullopt, 0.0f}, {"int8-static", sym, 0.0f}, {"int8-dynamic", {}, 6.0f}};
  for (const Case& c : cases) {
    const LstmDims d{3, c.T, 32, 16, 1, false};
    const uint64_t seed = 7400 + static_cast<uint64_t>(c.T);
    MESSAGE("seed " << seed << " T " << c.T);
    FloatLstm f = random_lstm(d, seed);
    f.x[(2 * d.T + c.step) * d.C + 5] = std::nanf("");
    f.x[(0 * d.T + c.step - 1) * d.C + 2] = 8.0f;  // an outlier one step earlier, batch row 0
    for (const Variant& v : variants) {
      INFO(v.precision << ", outlier threshold " << v.outlier_threshold);
      QCase q = lstm_case(f, v.precision, int8_weight, v.x_quant);
      q.precision.outlier_threshold = v.outlier_threshold;
      auto got = run_quantized_op(q);
      REQUIRE_FALSE(got.is_ok());
      const std::string msg = got.status().to_string();
      INFO(msg);
      CHECK(msg.find(std::string(v.precision) + " input 'x' has NaN at " + c.row + " column 5") !=
            std::string::npos);
    }
  }
}

// The input projection runs over chunks of 32 time steps (ops/lstm.h) and rows are independent,
// so a run over T = 70 steps (calls of B·32, B·32 and B·6 rows gathered from the B batch rows) must
// reproduce, bit for bit, a run over its first 20 steps (one call of B·20 rows): the LSTM is
// causal.
TEST_CASE("LSTM input projection in chunks: a long run's first steps equal a short run's") {
  const LstmDims long_dims{2, 70, 32, 32, 2, true};
  const int64_t short_T = 20;
  const uint64_t seed = 7600;
  MESSAGE("seed " << seed);
  const FloatLstm f = random_lstm(long_dims, seed);
  FloatLstm prefix = f;
  prefix.d.T = short_T;
  prefix.x.clear();
  for (int64_t b = 0; b < f.d.B; ++b)
    prefix.x.insert(prefix.x.end(), f.x.begin() + b * f.d.T * f.d.C,
                    f.x.begin() + (b * f.d.T + short_T) * f.d.C);
  ir::QuantParams sym;
  sym.scheme = ir::QuantScheme::kSymmetricPerTensor;
  sym.scales = {1.0f / 127.0f};
  struct Variant {
    const char* precision;
    WeightMaker weight;
    std::optional<ir::QuantParams> x_quant;
  };
  const Variant variants[] = {
      {"fp32", f32_weight, std::nullopt},   {"fp16", half_weight(false), std::nullopt},
      {"w8a16", int8_weight, std::nullopt}, {"int8-dynamic", int8_weight, std::nullopt},
      {"int8-static", int8_weight, sym},    {"nf4", nf4_weight, std::nullopt}};
  for (const Variant& v : variants) {
    INFO(v.precision);
    auto full = run_quantized_op(lstm_case(f, v.precision, v.weight, v.x_quant));
    auto part = run_quantized_op(lstm_case(prefix, v.precision, v.weight, v.x_quant));
    REQUIRE_MESSAGE(full.is_ok(), full.status().to_string());
    REQUIRE_MESSAGE(part.is_ok(), part.status().to_string());
    CHECK(max_abs(part->outputs[0]) > 0.01f);
    int64_t differing = 0;
    const int64_t H = f.d.H;
    for (int64_t b = 0; b < f.d.B; ++b)
      for (int64_t i = 0; i < short_T * H; ++i)
        differing += full->outputs[0][b * f.d.T * H + i] != part->outputs[0][b * short_T * H + i];
    CHECK(differing == 0);
  }
}

// With the LLM.int8() threshold each step's product picks its outlier columns over the step's B
// rows (docs/quantization.md §3). An outlier in batch row 1 at step 40 moves that column to the
// float path for batch row 0 too, at that step only: batch row 0 of the B = 2 run equals, bit for
// bit, a B = 1 run on its own data before step 40 (fails if columns were picked over the whole
// sequence) and differs from it at step 40 (fails if they were picked per batch row or chunk).
TEST_CASE("int8-dynamic LSTM with outlier threshold: outlier columns are chosen per step") {
  const LstmDims d{2, 70, 32, 32, 1, false};
  const int64_t outlier_step = 40;
  const uint64_t seed = 7700;
  MESSAGE("seed " << seed);
  FloatLstm pair = random_lstm(d, seed);
  pair.x[(1 * d.T + outlier_step) * d.C + 3] = 8.0f;  // others lie in [-1, 1)
  FloatLstm alone = pair;
  alone.d.B = 1;
  alone.x.resize(d.T * d.C);  // batch row 0
  auto with_threshold = [](QCase c) {
    c.precision.outlier_threshold = 6.0f;
    return c;
  };
  auto got_pair = run_quantized_op(with_threshold(lstm_case(pair, "int8-dynamic", int8_weight)));
  auto got_alone = run_quantized_op(with_threshold(lstm_case(alone, "int8-dynamic", int8_weight)));
  REQUIRE_MESSAGE(got_pair.is_ok(), got_pair.status().to_string());
  REQUIRE_MESSAGE(got_alone.is_ok(), got_alone.status().to_string());
  const std::vector<float>& y_pair = got_pair->outputs[0];  // batch row 0 comes first
  const std::vector<float>& y_alone = got_alone->outputs[0];
  CHECK(max_abs(y_alone) > 0.01f);
  int64_t differing_before = 0;
  for (int64_t i = 0; i < outlier_step * d.H; ++i) differing_before += y_pair[i] != y_alone[i];
  double at_step = 0;
  for (int64_t j = 0; j < d.H; ++j) {
    const int64_t i = outlier_step * d.H + j;
    at_step = std::max<double>(at_step, std::fabs(y_pair[i] - y_alone[i]));
  }
  MESSAGE("batch row 0, step " << outlier_step << ": max |B=2 - B=1| " << at_step);
  CHECK(differing_before == 0);
  CHECK(at_step > 0.0);
}

// The f32 LSTM packs constant weights by lanes in prepare (AVX-512 CPUs) and reads run-time weights
// in place with gemm_xwt_f32: both must agree to float rounding, and the session names the packing.
TEST_CASE("f32 LSTM: packed constant weights agree with weights read in place") {
  uint64_t seed = 7500;
  for (const LstmDims& d : kDims) {
    ++seed;
    INFO("seed " << seed << " B " << d.B << " T " << d.T << " C " << d.C << " H " << d.H);
    const FloatLstm f = random_lstm(d, seed);
    const QCase packed = lstm_case(f, "fp32", f32_weight);
    QCase in_place = packed;
    for (std::size_t i = 3; i < in_place.inputs.size(); ++i) {
      const QInput& c = packed.inputs[i];
      in_place.inputs[i] =
          f32_input(c.value.name + "_rt", c.value.shape, f.w[(i - 3) / 4 * 4 + (i - 3) % 4]);
    }
    auto a = run_quantized_op(packed);
    auto b = run_quantized_op(in_place);
    REQUIRE_MESSAGE(a.is_ok(), a.status().to_string());
    REQUIRE_MESSAGE(b.is_ok(), b.status().to_string());
    CHECK(max_abs(a->outputs[0]) > 0.01f);
    CHECK(max_error(*a, *b) <= kSameWeightsTolerance);
  }
}

}  // namespace
}  // namespace qrt::testing
