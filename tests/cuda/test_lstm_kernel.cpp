// The CUDA LSTM entry (cuda/kernels/lstm_kernel.cpp, the persistent kernel of cuda/lstm/) through
// runtime::Kernel prepare/run on device buffers against the CPU reference kernels
// (ops/quantized/lstm_quantized.cpp), per precision, on random data with printed seeds: all three
// outputs (y, h_n, c_n), with and without initial states, two layers, a batch and lengths of 1.
// Without a GPU the registry wiring and the clean prepare failure are checked.
#include <doctest/doctest.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "ir/half.h"
#include "ir/quantize.h"
#include "tests/cuda/kernel_test_support.h"
#include "tests/support/random.h"

namespace qrt::testing {
namespace {

struct Shape {
  int64_t B, T, C, H, L;
  bool initial_state;
};

QInput weight(const std::string& precision, const std::string& name, int64_t rows, int64_t cols,
              uint64_t seed) {
  // Uniform in ±1/√H as PyTorch initializes nn.LSTM, so the gates stay out of saturation.
  const float bound = 1.0f / std::sqrt(static_cast<float>(cols));
  const std::vector<float> wf =
      random_floats(static_cast<std::size_t>(rows * cols), seed, -bound, bound);
  if (precision == "fp16") {
    std::vector<uint16_t> bits(wf.size());
    for (std::size_t i = 0; i < wf.size(); ++i) bits[i] = ir::float_to_f16_bits(wf[i]);
    return raw_constant(name, ir::DType::kF16, {rows, cols}, bits.data(), bits.size() * 2,
                        std::nullopt);
  }
  if (precision == "nf4") {
    auto q = ir::quantize_nf4({wf, {rows, cols}}, 32, /*double_quant=*/true);
    REQUIRE_MESSAGE(q.is_ok(), q.status().to_string());
    return raw_constant(name, ir::DType::kNF4, {rows, cols}, q->packed.data(), q->packed.size(),
                        q->params);
  }
  auto q = ir::quantize_weight_per_channel({wf, {rows, cols}});
  REQUIRE_MESSAGE(q.is_ok(), q.status().to_string());
  return raw_constant(name, ir::DType::kI8, {rows, cols}, q->codes.data(), q->codes.size(),
                      q->params);
}

QCase lstm_case(const std::string& precision, const Shape& s, uint64_t seed) {
  QCase c;
  c.op = ir::OpKind::kLSTM;
  c.attrs = ir::LstmAttrs{s.H, s.L};
  c.precision.precision = precision;
  std::optional<ir::QuantParams> x_quant;
  if (precision == "int8-static") {
    ir::QuantParams q;
    q.scheme = ir::QuantScheme::kSymmetricPerTensor;
    q.scales = {2.0f / 127.0f};  // x is uniform in [-2, 2)
    x_quant = q;
  }
  c.inputs.push_back(f32_input(
      "x", {s.B, s.T, s.C},
      random_floats(static_cast<std::size_t>(s.B * s.T * s.C), seed, -2.0f, 2.0f), x_quant));
  for (const char* state : {"h0", "c0"}) {
    ++seed;
    c.inputs.push_back(
        s.initial_state
            ? f32_input(state, {s.L, s.B, s.H},
                        random_floats(static_cast<std::size_t>(s.L * s.B * s.H), seed, -0.5f, 0.5f))
            : absent_input());
  }
  for (int64_t l = 0; l < s.L; ++l) {
    const std::string layer = std::to_string(l);
    c.inputs.push_back(weight(precision, "w_ih" + layer, 4 * s.H, l == 0 ? s.C : s.H, ++seed));
    c.inputs.push_back(weight(precision, "w_hh" + layer, 4 * s.H, s.H, ++seed));
    for (const char* bias : {"b_ih", "b_hh"})
      c.inputs.push_back(
          f32_constant(bias + layer, {4 * s.H},
                       random_floats(static_cast<std::size_t>(4 * s.H), ++seed, -0.1f, 0.1f)));
  }
  c.output_shapes = {{s.B, s.T, s.H}, {s.L, s.B, s.H}, {s.L, s.B, s.H}};
  return c;
}

struct Variant {
  const char* precision;
  std::vector<Shape> shapes;
  // Relative to each output's max |value|. nf4: both sides multiply f32 activations by the same
  // decoded weights, differing only in summation order (~1e-6), kept over T steps. fp16 rounds
  // each gate projection to f16 on both sides: a rounding flip is 2^-11 of a pre-activation. int8:
  // the integer sums agree but an activation row scale may differ by an ulp and flip a tie, one
  // code step (1/127 of a row's absmax) in one product. A wrong gate order or state is O(1).
  double tolerance;
};

TEST_CASE("the CUDA LSTM entry matches the CPU reference kernels") {
  // C = 7 < 16 exercises the int8 layer-0 input kept in float; H = 13 and 33 are not multiples of
  // the 8-element vectors; NF4 blocks of 32 need C and H divisible by 32.
  const std::vector<Shape> small = {
      {1, 1, 7, 13, 2, false}, {3, 5, 16, 33, 2, true}, {2, 9, 7, 24, 1, true}};
  const Variant variants[] = {
      {"fp16", small, 5e-3},
      {"int8-dynamic", small, 2e-2},
      {"int8-static", small, 2e-2},
      {"nf4", {{1, 1, 32, 32, 2, false}, {3, 6, 32, 64, 2, true}}, 1e-4},
  };
  uint64_t seed = 93000;
  for (const Variant& v : variants) {
    for (const Shape& s : v.shapes) {
      seed += 100;
      INFO("precision ", std::string(v.precision), ", B ", s.B, " T ", s.T, " C ", s.C, " H ", s.H,
           " L ", s.L, ", initial state ", s.initial_state, ", seed ", seed);
      const QCase c = lstm_case(v.precision, s, seed);
      CudaKernelRun gpu;
      if (!run_on_gpu_or_skip(c, "cuda.lstm", gpu)) continue;
      auto cpu = run_quantized_op(c);
      REQUIRE_MESSAGE(cpu.is_ok(), cpu.status().to_string());
      for (std::size_t o = 0; o < 3; ++o) {
        INFO("output ", std::string(o == 0 ? "y" : (o == 1 ? "h_n" : "c_n")));
        check_close(gpu.outputs[o], cpu->outputs[o], v.tolerance);
      }
    }
  }
  QRT_REQUIRE_GPU();
}

TEST_CASE("an LSTM in a precision the persistent kernel does not implement has no CUDA entry") {
  CHECK(run_cuda_kernel(lstm_case("w8a16", {1, 2, 7, 13, 1, false}, 93900)).entry.empty());
  // The CPU int8-dynamic LSTM applies the LLM.int8() outlier decomposition; the GPU one has none,
  // so it takes a threshold only where no column can be an outlier: above 1 (|h| <= 1) with a
  // layer-0 input narrower than 16 features (computed in float on both sides).
  const struct {
    int64_t C;
    float threshold;
    bool on_gpu;
  } outlier_cases[] = {{7, 6.0f, true}, {16, 6.0f, false}, {7, 0.5f, false}, {16, 0.0f, true}};
  for (const auto& o : outlier_cases) {
    INFO("C ", o.C, ", threshold ", o.threshold);
    QCase c = lstm_case("int8-dynamic", {1, 2, o.C, 13, 1, false}, 93910);
    c.precision.outlier_threshold = o.threshold;
    CHECK(run_cuda_kernel(c).entry == (o.on_gpu ? "cuda.lstm" : ""));
  }
  // W_hh of H = 1024 in f16 is 8 MiB, beyond the shared memory of a cluster of 8 CTAs (8 x 227 KB
  // on Hopper): with a device to ask, the entry declines it so that the CPU kernel runs it
  // (without one, prepare reports the missing device instead).
  const QCase big = lstm_case("fp16", {1, 1, 16, 1024, 1, false}, 93920);
  CHECK(run_cuda_kernel(big).entry == (gpu_unavailable_reason().empty() ? "" : "cuda.lstm"));
}

TEST_CASE("the CUDA LSTM entry: constant initial states, and an empty sequence") {
  uint64_t seed = 94000;
  {
    // h0 / c0 stored in the graph (an exported zero state, here random): the session passes them
    // as host views, so prepare uploads them. Tolerance as for fp16 above.
    seed += 100;
    INFO("constant h0 / c0, seed ", seed);
    QCase c = lstm_case("fp16", {2, 3, 16, 13, 2, true}, seed);
    for (std::size_t i : {std::size_t{1}, std::size_t{2}})
      c.inputs[i] = f32_constant(i == 1 ? "h0" : "c0", c.inputs[i].value.shape, c.inputs[i].data);
    CudaKernelRun gpu;
    if (run_on_gpu_or_skip(c, "cuda.lstm", gpu)) {
      auto cpu = run_quantized_op(c);
      REQUIRE_MESSAGE(cpu.is_ok(), cpu.status().to_string());
      for (std::size_t o = 0; o < 3; ++o) check_close(gpu.outputs[o], cpu->outputs[o], 5e-3);
    }
  }
  {
    // T = 0: y is empty and the final state is the initial one, exactly (ops/lstm.cpp).
    seed += 100;
    INFO("T = 0, seed ", seed);
    const QCase c = lstm_case("fp16", {2, 0, 16, 13, 2, true}, seed);
    CudaKernelRun gpu;
    if (run_on_gpu_or_skip(c, "cuda.lstm", gpu)) {
      auto cpu = run_quantized_op(c);
      REQUIRE_MESSAGE(cpu.is_ok(), cpu.status().to_string());
      CHECK(gpu.outputs[0].empty());
      CHECK(gpu.outputs[1] == c.inputs[1].data);
      CHECK(gpu.outputs[2] == c.inputs[2].data);
      CHECK(gpu.outputs[1] == cpu->outputs[1]);
      CHECK(gpu.outputs[2] == cpu->outputs[2]);
    }
  }
  QRT_REQUIRE_GPU();
}

}  // namespace
}  // namespace qrt::testing
