// The persistent CUDA LSTM (cuda/lstm/lstm.cuh) against the CPU reference kernels of the same
// precision (ops/quantized/lstm_quantized.cpp, run through tests/ops/quantized_harness.h) on random
// data with fixed, printed seeds: B in {1, 3}, H in {128, 256} and an odd H (37), T in {1, 7, 96},
// two layers (plus one and three), with and without initial state, every cluster size, partial
// clusters. Outputs and workspace are poisoned (NaN bytes) before each run, with canary words past
// each output. Without a GPU the numerics skip; the pure host checks (can_implement, argument
// validation, clean failure without a device) run everywhere.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "cuda/cuda_status.h"
#include "cuda/device_buffer.h"
#include "cuda/lstm/lstm.cuh"
#include "ir/half.h"
#include "ir/quantize.h"
#include "tests/cuda/cuda_test_support.h"
#include "tests/ops/quantized_harness.h"
#include "tests/support/gpu_guard.h"
#include "tests/support/random.h"

namespace {

using qrt::Status;
using qrt::StatusCode;
using qrt::cuda::LstmConfig;
using qrt::cuda::LstmDesc;
using qrt::cuda::LstmInputQuant;
using qrt::cuda::LstmLayerWeights;
using qrt::cuda::LstmPlan;
using qrt::cuda::LstmPrecision;
using qrt::cuda::LstmRunArgs;
using namespace qrt::testing;  // the CUDA test helpers (cuda_test_support.h)

// Hopper's opt-in shared memory per block (227 KB), for the device-free can_implement checks.
constexpr std::size_t kHopperSharedMemory = 232448;

// Largest |GPU − CPU reference| over y, h_n and c_n, same precision on both sides.
// fp16: both sides round every projection result to f16; the two f32 sums differ in order (~1e-7
// relative), which now and then moves a result across an f16 rounding boundary: one f16 ulp of a
// gate pre-activation (2^-9 ≈ 2e-3 at |v| in [2, 4)) times σ' <= 1/4, a few such flips per
// sequence, damped by the forget gate.
constexpr double kFp16Tolerance = 3e-3;
// int8: the integer sums are exact, but the f32 gate math (expf/tanhf within 2 ulp of the CPU's)
// now and then moves an h value across a rounding boundary of its quantization, and one h code
// moves each gate pre-activation of the next step by s_x·w (≈ 5e-3 · 0.1), not s_x·s_w: that
// perturbation flips more codes, and after such a cascade (a CPU simulation of this test with
// ~1-ulp differences in σ/tanh: about 1 run in 4 for int8-dynamic, 1 in 12 for int8-static at
// T = 96) the two sequences differ by up to ~1e-2, ~1e-4 on average. The max check catches wrong
// gate order, scales, biases or steps (errors of 0.1 and more); the mean check below catches
// small systematic differences.
constexpr double kInt8Tolerance = 3e-2;
// Mean |GPU − CPU| over all outputs, every precision (cascades above stay under ~8e-4).
constexpr double kMeanTolerance = 2e-3;
// NF4: both sides multiply the same dequantized weights (absmax·codebook) into f32 sums; only the
// summation order (and the GPU's absmax factored out of each 8-element chunk) differs: f32
// rounding, a few 1e-7 per product sum, carried through the recurrence.
constexpr double kNf4Tolerance = 2e-4;

struct Dims {
  int64_t B, T, C, H, L;
  bool with_state;
};

struct FloatLstm {
  Dims d;
  std::vector<float> x, h0, c0;
  std::vector<std::vector<float>> w;  // per layer: w_ih, w_hh, b_ih, b_hh
};

FloatLstm random_lstm(const Dims& d, uint64_t seed) {
  FloatLstm f{d, qrt::testing::random_floats(d.B * d.T * d.C, seed), {}, {}, {}};
  if (d.with_state) {
    f.h0 = qrt::testing::random_floats(d.L * d.B * d.H, seed + 1, -0.5f, 0.5f);
    f.c0 = qrt::testing::random_floats(d.L * d.B * d.H, seed + 2, -0.5f, 0.5f);
  }
  // PyTorch's init, U(-1/√H, 1/√H), scaled by 2 so that gates leave the linear region of σ/tanh.
  const float r = 2.0f / std::sqrt(static_cast<float>(d.H));
  for (int64_t l = 0; l < d.L; ++l) {
    const int64_t in = l == 0 ? d.C : d.H;
    const uint64_t s = seed + 100 * (l + 1);
    f.w.push_back(qrt::testing::random_floats(4 * d.H * in, s, -r, r));
    f.w.push_back(qrt::testing::random_floats(4 * d.H * d.H, s + 1, -r, r));
    f.w.push_back(qrt::testing::random_floats(4 * d.H, s + 2, -r, r));
    f.w.push_back(qrt::testing::random_floats(4 * d.H, s + 3, -r, r));
  }
  return f;
}

// Every weight matrix in the stored forms both sides read: f16 bits, or int8 codes with
// per-output-channel scales (ir::quantize_weight_per_channel, the form the int8 passes produce).
struct StoredWeights {
  std::vector<std::vector<uint16_t>> f16;  // per layer: w_ih, w_hh
  std::vector<std::vector<int8_t>> i8;
  std::vector<std::vector<float>> scales;
  int64_t nf4_block = 0;  // 0: no NF4 form (the block does not divide C and H)
  std::vector<qrt::ir::Nf4Weight> nf4;
  std::vector<std::vector<float>> nf4_absmax;  // decoded (ir::nf4_block_absmax)
};

StoredWeights store_weights(const FloatLstm& f, int64_t nf4_block = 0) {
  StoredWeights s;
  s.nf4_block = nf4_block;
  for (int64_t l = 0; l < f.d.L; ++l) {
    const int64_t in = l == 0 ? f.d.C : f.d.H;
    for (int m = 0; m < 2; ++m) {
      const std::vector<float>& w = f.w[4 * l + m];
      std::vector<uint16_t> bits(w.size());
      for (std::size_t i = 0; i < w.size(); ++i) bits[i] = qrt::ir::float_to_f16_bits(w[i]);
      s.f16.push_back(std::move(bits));
      auto q = qrt::ir::quantize_weight_per_channel({w, {4 * f.d.H, m == 0 ? in : f.d.H}});
      REQUIRE_MESSAGE(q.is_ok(), q.status().to_string());
      s.i8.push_back(q->codes);
      s.scales.push_back(q->params.scales);
      if (nf4_block > 0) {
        auto n4 = qrt::ir::quantize_nf4({w, {4 * f.d.H, m == 0 ? in : f.d.H}}, nf4_block,
                                        /*double_quant=*/true);
        REQUIRE_MESSAGE(n4.is_ok(), n4.status().to_string());
        s.nf4_absmax.push_back(qrt::ir::nf4_block_absmax(n4->params));
        s.nf4.push_back(std::move(*n4));
      }
    }
  }
  return s;
}

QInput weight_input(const FloatLstm& f, const StoredWeights& s, LstmPrecision precision,
                    int64_t layer, int matrix) {
  const std::size_t i = 2 * static_cast<std::size_t>(layer) + static_cast<std::size_t>(matrix);
  const int64_t in = matrix == 0 && layer == 0 ? f.d.C : f.d.H;
  const std::string name = (matrix == 0 ? "w_ih" : "w_hh") + std::to_string(layer);
  if (precision == LstmPrecision::kNf4)
    return qrt::testing::raw_constant(name, qrt::ir::DType::kNF4, {4 * f.d.H, in},
                                      s.nf4[i].packed.data(), s.nf4[i].packed.size(),
                                      s.nf4[i].params);
  if (precision == LstmPrecision::kFp16)
    return qrt::testing::raw_constant(name, qrt::ir::DType::kF16, {4 * f.d.H, in}, s.f16[i].data(),
                                      s.f16[i].size() * 2, std::nullopt);
  qrt::ir::QuantParams params;
  params.scheme = qrt::ir::QuantScheme::kSymmetricPerChannel;
  params.axis = 0;
  params.scales = s.scales[i];
  return qrt::testing::raw_constant(name, qrt::ir::DType::kI8, {4 * f.d.H, in}, s.i8[i].data(),
                                    s.i8[i].size(), params);
}

std::optional<qrt::ir::QuantParams> x_params(const LstmInputQuant& q) {
  qrt::ir::QuantParams p;
  p.scales = {q.scale};
  if (q.zero_point == 0 && q.qmin == -127) {
    p.scheme = qrt::ir::QuantScheme::kSymmetricPerTensor;
  } else {
    p.scheme = qrt::ir::QuantScheme::kAffinePerTensor;
    p.zero_points = {q.zero_point};
  }
  return p;
}

// The CPU reference of `precision` (or fp32 when `f32`) on the same stored weights.
std::vector<std::vector<float>> cpu_reference(const FloatLstm& f, const StoredWeights& s,
                                              LstmPrecision precision, const LstmInputQuant& xq,
                                              bool f32) {
  const Dims& d = f.d;
  QCase c;
  c.op = qrt::ir::OpKind::kLSTM;
  c.attrs = qrt::ir::LstmAttrs{d.H, d.L};
  c.precision.precision = f32 ? "fp32" : qrt::cuda::lstm_precision_name(precision);
  std::optional<qrt::ir::QuantParams> xp;
  if (!f32 && precision == LstmPrecision::kInt8Static) xp = x_params(xq);
  c.inputs.push_back(qrt::testing::f32_input("x", {d.B, d.T, d.C}, f.x, xp));
  if (d.with_state) {
    c.inputs.push_back(qrt::testing::f32_input("h0", {d.L, d.B, d.H}, f.h0));
    c.inputs.push_back(qrt::testing::f32_input("c0", {d.L, d.B, d.H}, f.c0));
  } else {
    c.inputs.push_back(qrt::testing::absent_input());
    c.inputs.push_back(qrt::testing::absent_input());
  }
  for (int64_t l = 0; l < d.L; ++l) {
    const std::string sfx = std::to_string(l);
    for (int m = 0; m < 2; ++m) {
      const int64_t in = m == 0 && l == 0 ? d.C : d.H;
      c.inputs.push_back(f32 ? qrt::testing::f32_constant((m == 0 ? "w_ih" : "w_hh") + sfx,
                                                          {4 * d.H, in}, f.w[4 * l + m])
                             : weight_input(f, s, precision, l, m));
    }
    c.inputs.push_back(qrt::testing::f32_constant("b_ih" + sfx, {4 * d.H}, f.w[4 * l + 2]));
    c.inputs.push_back(qrt::testing::f32_constant("b_hh" + sfx, {4 * d.H}, f.w[4 * l + 3]));
  }
  c.output_shapes = {{d.B, d.T, d.H}, {d.L, d.B, d.H}, {d.L, d.B, d.H}};
  auto run = qrt::testing::run_quantized_op(c);
  REQUIRE_MESSAGE(run.is_ok(), run.status().to_string());
  return run->outputs;
}

std::vector<LstmLayerWeights> layer_weights(const FloatLstm& f, const StoredWeights& s) {
  std::vector<LstmLayerWeights> layers(static_cast<std::size_t>(f.d.L));
  for (int64_t l = 0; l < f.d.L; ++l) {
    LstmLayerWeights& w = layers[static_cast<std::size_t>(l)];
    const std::size_t ih = 2 * static_cast<std::size_t>(l), hh = ih + 1;
    w.w_ih_f16 = s.f16[ih].data();
    w.w_hh_f16 = s.f16[hh].data();
    w.w_ih_i8 = s.i8[ih].data();
    w.w_hh_i8 = s.i8[hh].data();
    w.w_ih_scales = s.scales[ih].data();
    w.w_hh_scales = s.scales[hh].data();
    if (s.nf4_block > 0) {
      w.w_ih_nf4 = s.nf4[ih].packed.data();
      w.w_hh_nf4 = s.nf4[hh].packed.data();
      w.w_ih_absmax = s.nf4_absmax[ih].data();
      w.w_hh_absmax = s.nf4_absmax[hh].data();
    }
    w.b_ih = f.w[4 * l + 2].data();
    w.b_hh = f.w[4 * l + 3].data();
  }
  return layers;
}

constexpr std::size_t kCanaryFloats = 16;
constexpr unsigned char kNanByte = 0xFF;  // 0xFFFFFFFF is a NaN: an element never written fails

// A device buffer of n floats plus canaries, all NaN bytes.
qrt::cuda::DeviceBuffer poisoned_floats(std::size_t n) {
  return poisoned((n + kCanaryFloats) * sizeof(float), kNanByte);
}

// Downloads n floats and checks that the canary words after them are still poison.
std::vector<float> download_floats(const qrt::cuda::DeviceBuffer& buffer, std::size_t n) {
  return download_checked<float>(buffer, n, kNanByte);
}

double max_error(const std::vector<std::vector<float>>& a,
                 const std::vector<std::vector<float>>& b) {
  double e = 0.0;
  for (std::size_t o = 0; o < a.size(); ++o) {
    REQUIRE(a[o].size() == b[o].size());
    for (std::size_t i = 0; i < a[o].size(); ++i) {
      const double diff = std::fabs(static_cast<double>(a[o][i]) - b[o][i]);
      if (std::isnan(diff)) return INFINITY;  // an element never written (poison) or a NaN
      e = std::max(e, diff);
    }
  }
  return e;
}

// Mean |a − b| over y, h_n and c_n (infinite when an element is NaN).
double mean_error(const std::vector<std::vector<float>>& a,
                  const std::vector<std::vector<float>>& b) {
  double sum = 0.0;
  std::size_t count = 0;
  for (std::size_t o = 0; o < a.size(); ++o) {
    REQUIRE(a[o].size() == b[o].size());
    for (std::size_t i = 0; i < a[o].size(); ++i)
      sum += std::fabs(static_cast<double>(a[o][i]) - b[o][i]);
    count += a[o].size();
  }
  return std::isnan(sum) ? INFINITY : sum / static_cast<double>(count);
}

// Runs the GPU LSTM; outputs y, h_n, c_n.
std::vector<std::vector<float>> gpu_run(const FloatLstm& f, const StoredWeights& s,
                                        const LstmDesc& desc, const LstmConfig& config) {
  const Dims& d = f.d;
  const std::vector<LstmLayerWeights> layers = layer_weights(f, s);
  auto plan = LstmPlan::prepare(desc, layers, config);
  REQUIRE_MESSAGE(plan.is_ok(), plan.status().to_string());
  MESSAGE("cluster " << plan->shape().cluster_size << " row capacity "
                     << plan->shape().rows_per_cluster << " (adaptive "
                     << plan->shape().adaptive_rows << ", resident clusters "
                     << plan->shape().max_active_clusters << ") smem/CTA "
                     << plan->shape().smem.total_bytes);
  const std::size_t y_n = static_cast<std::size_t>(d.B * d.T * d.H);
  const std::size_t state_n = static_cast<std::size_t>(d.L * d.B * d.H);
  qrt::cuda::DeviceBuffer x = upload(f.x);
  qrt::cuda::DeviceBuffer h0, c0;
  if (d.with_state) {
    h0 = upload(f.h0);
    c0 = upload(f.c0);
  }
  qrt::cuda::DeviceBuffer y = poisoned_floats(y_n), h_n = poisoned_floats(state_n),
                          c_n = poisoned_floats(state_n);
  const std::size_t ws_bytes = plan->workspace_bytes(d.B, d.T);
  qrt::cuda::DeviceBuffer ws = poisoned_floats(ws_bytes / sizeof(float));

  LstmRunArgs args;
  args.batch = d.B;
  args.steps = d.T;
  args.x = x.as<float>();
  args.h0 = h0.as<float>();
  args.c0 = c0.as<float>();
  args.y = y.as<float>();
  args.h_n = h_n.as<float>();
  args.c_n = c_n.as<float>();
  args.workspace = ws.data();
  args.workspace_bytes = ws_bytes;
  const Status launched = qrt::cuda::launch_lstm(*plan, args, nullptr);
  REQUIRE_MESSAGE(launched.is_ok(), launched.to_string());
  const cudaError_t synced = cudaDeviceSynchronize();
  REQUIRE_MESSAGE(synced == cudaSuccess, cudaGetErrorString(synced));
  return {download_floats(y, y_n), download_floats(h_n, state_n), download_floats(c_n, state_n)};
}

struct PrecisionCase {
  LstmPrecision precision;
  LstmInputQuant x_quant;
  const char* label;
  double tolerance;
};

std::vector<PrecisionCase> precision_cases() {
  LstmInputQuant symmetric;  // x in [-1, 1): scale 1/127
  LstmInputQuant affine{2.0f / 255.0f, 128, 0, 255};
  return {{LstmPrecision::kFp16, {}, "fp16", kFp16Tolerance},
          {LstmPrecision::kInt8Dynamic, {}, "int8-dynamic", kInt8Tolerance},
          {LstmPrecision::kInt8Static, symmetric, "int8-static (symmetric x)", kInt8Tolerance},
          {LstmPrecision::kInt8Static, affine, "int8-static (affine x)", kInt8Tolerance}};
}

void check_against_reference(const Dims& d, uint64_t seed, const PrecisionCase& pc,
                             const LstmConfig& config, int64_t nf4_block = 0) {
  INFO("seed " << seed << " " << std::string(pc.label) << " B " << d.B << " T " << d.T << " C "
               << d.C << " H " << d.H << " L " << d.L << " state " << d.with_state << " cluster "
               << config.cluster_size << " rows/cluster " << config.rows_per_cluster);
  const FloatLstm f = random_lstm(d, seed);
  const StoredWeights s = store_weights(f, nf4_block);
  LstmDesc desc{pc.precision, d.C, d.H, d.L, pc.x_quant, nf4_block > 0 ? nf4_block : 64};
  const auto want = cpu_reference(f, s, pc.precision, pc.x_quant, /*f32=*/false);
  REQUIRE(qrt::testing::max_abs(want[0]) > 0.01f);  // never compare near-zero outputs
  const auto got = gpu_run(f, s, desc, config);
  const double err = max_error(got, want);
  const double mean_err = mean_error(got, want);
  const double err_f32 = max_error(got, cpu_reference(f, s, pc.precision, pc.x_quant, true));
  MESSAGE(std::string(pc.label) << " max |gpu - cpu " << std::string(pc.label) << "| = " << err
                                << " (mean " << mean_err << "), vs the f32 LSTM = " << err_f32);
  CHECK(err <= pc.tolerance);
  CHECK(mean_err <= kMeanTolerance);
}

// ---------------------------------------------------------------------------------------------------
// Host-only checks (run everywhere).

TEST_CASE("lstm_can_implement: the forecaster's shapes fit, with a clear choice of cluster") {
  for (const LstmPrecision precision :
       {LstmPrecision::kFp16, LstmPrecision::kInt8Dynamic, LstmPrecision::kInt8Static}) {
    for (const int64_t H : {128, 256}) {
      const LstmDesc desc{precision, 7, H, 2, {}};
      auto shape = qrt::cuda::lstm_can_implement(desc, {}, kHopperSharedMemory);
      INFO(std::string(qrt::cuda::lstm_precision_name(precision)) << " H " << H);
      REQUIRE_MESSAGE(shape.is_ok(), shape.status().to_string());
      MESSAGE(std::string(qrt::cuda::lstm_precision_name(precision))
              << " H " << H << ": cluster " << shape->cluster_size << ", smem/CTA "
              << shape->smem.total_bytes << ", weights/CTA " << shape->smem.weight_block_bytes);
      CHECK(shape->smem.total_bytes <= static_cast<int64_t>(kHopperSharedMemory));
      CHECK(shape->units_per_cta * shape->cluster_size >= H);
      CHECK(shape->padded_hidden % 8 == 0);
      CHECK(shape->smem.total_bytes % 16 == 0);
      CHECK(shape->smem.weight_block_bytes % 16 == 0);
    }
  }
  // An odd H pads to 8 and splits unevenly: 37 over 8 CTAs = 5 units each, the last owns 2.
  auto odd = qrt::cuda::lstm_can_implement({LstmPrecision::kFp16, 7, 37, 2, {}}, {8, 1},
                                           kHopperSharedMemory);
  REQUIRE(odd.is_ok());
  CHECK(odd->padded_hidden == 40);
  CHECK(odd->units_per_cta == 5);
  // fp16, H = 256: W_hh of two layers + W_ih of layer 1 = 1.5 MB, 192 KB per CTA of 8.
  auto wide = qrt::cuda::lstm_can_implement({LstmPrecision::kFp16, 7, 256, 2, {}}, {8, 1},
                                            kHopperSharedMemory);
  REQUIRE(wide.is_ok());
  CHECK(wide->smem.weight_block_bytes >= 3 * 4 * 32 * 256 * 2);
}

TEST_CASE("lstm_can_implement rejects what cannot work, naming the size at fault") {
  const LstmDesc base{LstmPrecision::kInt8Dynamic, 7, 256, 2, {}};
  auto too_big = qrt::cuda::lstm_can_implement({LstmPrecision::kFp16, 7, 1024, 2, {}}, {},
                                               kHopperSharedMemory);
  REQUIRE_FALSE(too_big.is_ok());
  MESSAGE(too_big.status().to_string());
  CHECK(too_big.status().code() == StatusCode::kUnsupported);
  CHECK(contains(too_big.status().message(), "do not fit on chip"));
  CHECK(contains(too_big.status().message(), "H = 1024"));

  LstmDesc nf4{LstmPrecision::kNf4, 7, 256, 2, {}, 64};
  auto nf4_block = qrt::cuda::lstm_can_implement(nf4, {}, kHopperSharedMemory);
  CHECK(nf4_block.status().code() == StatusCode::kInvalidArgument);
  CHECK(contains(nf4_block.status().message(), "does not divide input_size 7"));
  nf4.input_size = 64;
  nf4.nf4_block_size = 48;
  CHECK(contains(qrt::cuda::lstm_can_implement(nf4, {}, kHopperSharedMemory).status().message(),
                 "NF4 block size 48"));
  nf4.nf4_block_size = 64;
  auto nf4_shape = qrt::cuda::lstm_can_implement(nf4, {}, kHopperSharedMemory);
  REQUIRE_MESSAGE(nf4_shape.is_ok(), nf4_shape.status().to_string());
  CHECK(nf4_shape->scales_per_row == 4);
  // H = 1024 in NF4: 3 matrices of 4M 4-bit codes = 6 MB, 768 KB per CTA of 8: off chip.
  nf4.hidden_size = 1024;
  CHECK(qrt::cuda::lstm_can_implement(nf4, {}, kHopperSharedMemory).status().code() ==
        StatusCode::kUnsupported);

  auto short_dynamic = qrt::cuda::lstm_can_implement({LstmPrecision::kInt8Dynamic, 7, 8, 1, {}}, {},
                                                     kHopperSharedMemory);
  CHECK(short_dynamic.status().code() == StatusCode::kUnsupported);
  CHECK(contains(short_dynamic.status().message(), "hidden_size 8 < 16"));

  auto one_cta = qrt::cuda::lstm_can_implement(base, {1, 1}, kHopperSharedMemory);
  REQUIRE_FALSE(one_cta.is_ok());
  CHECK(one_cta.status().code() == StatusCode::kUnsupported);
  CHECK(contains(one_cta.status().message(), "cluster of 1"));

  auto bad_cluster = qrt::cuda::lstm_can_implement(base, {3, 1}, kHopperSharedMemory);
  CHECK(bad_cluster.status().code() == StatusCode::kInvalidArgument);
  CHECK(contains(bad_cluster.status().message(), "cluster_size 3"));

  auto bad_rows = qrt::cuda::lstm_can_implement(base, {0, 9}, kHopperSharedMemory);
  CHECK(bad_rows.status().code() == StatusCode::kInvalidArgument);
  CHECK(contains(bad_rows.status().message(), "rows_per_cluster 9"));

  auto no_hidden =
      qrt::cuda::lstm_can_implement({LstmPrecision::kFp16, 7, 0, 2, {}}, {}, kHopperSharedMemory);
  CHECK(no_hidden.status().code() == StatusCode::kInvalidArgument);
  CHECK(contains(no_hidden.status().message(), "hidden_size 0"));

  auto no_layers =
      qrt::cuda::lstm_can_implement({LstmPrecision::kFp16, 7, 8, 0, {}}, {}, kHopperSharedMemory);
  CHECK(contains(no_layers.status().message(), "num_layers 0"));

  auto more_ctas_than_units = qrt::cuda::lstm_can_implement({LstmPrecision::kFp16, 7, 4, 1, {}},
                                                            {8, 1}, kHopperSharedMemory);
  CHECK(more_ctas_than_units.status().code() == StatusCode::kInvalidArgument);

  LstmDesc bad_quant{LstmPrecision::kInt8Static, 7, 64, 1, {0.0f, 0, -127, 127}};
  auto zero_scale = qrt::cuda::lstm_can_implement(bad_quant, {}, kHopperSharedMemory);
  CHECK(zero_scale.status().code() == StatusCode::kInvalidArgument);
  CHECK(contains(zero_scale.status().message(), "input scale"));
  bad_quant.input_quant = {0.1f, 300, 0, 255};
  CHECK(
      contains(qrt::cuda::lstm_can_implement(bad_quant, {}, kHopperSharedMemory).status().message(),
               "zero point 300"));
}

TEST_CASE("LstmPlan::prepare checks its weights and fails cleanly without a device") {
  const LstmDesc desc{LstmPrecision::kInt8Dynamic, 7, 16, 1, {}};
  std::vector<LstmLayerWeights> none(1);
  auto missing = LstmPlan::prepare(desc, none);
  REQUIRE_FALSE(missing.is_ok());
  CHECK(missing.status().code() == StatusCode::kInvalidArgument);
  CHECK(contains(missing.status().message(), "layer 0: w_ih_i8 is null"));

  auto wrong_count = LstmPlan::prepare(desc, {});
  CHECK(contains(wrong_count.status().message(), "0 layer weight sets"));

  // Complete int8 weights with a bad scale.
  std::vector<int8_t> w_ih(4 * 16 * 7, 1), w_hh(4 * 16 * 16, 1);
  std::vector<float> scales(4 * 16, 0.01f);
  std::vector<float> bad_scales = scales;
  bad_scales[5] = -1.0f;
  LstmLayerWeights layer;
  layer.w_ih_i8 = w_ih.data();
  layer.w_hh_i8 = w_hh.data();
  layer.w_ih_scales = scales.data();
  layer.w_hh_scales = bad_scales.data();
  std::vector<LstmLayerWeights> layers = {layer};
  auto bad = LstmPlan::prepare(desc, layers);
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(contains(bad.status().message(), "w_hh_scales[5]"));

  layers[0].w_hh_scales = scales.data();
  auto prepared = LstmPlan::prepare(desc, layers);
  if (!qrt::cuda::device_available()) {
    REQUIRE_FALSE(prepared.is_ok());
    MESSAGE("prepare without a device: " << prepared.status().to_string());
    CHECK(prepared.status().code() == StatusCode::kDeviceError);
    CHECK(contains(prepared.status().message(), "no CUDA device"));
  } else {
    CHECK_MESSAGE(prepared.is_ok(), prepared.status().to_string());
  }
}

// ---------------------------------------------------------------------------------------------------
// Numerics on the GPU.

TEST_CASE("GPU LSTM matches the CPU reference: B {1, 3} x H {128, 256, 37} x T {1, 7, 96}") {
  QRT_REQUIRE_GPU();
  uint64_t seed = 9100;
  for (const PrecisionCase& pc : precision_cases()) {
    for (const int64_t B : {1, 3}) {
      for (const int64_t H : {128, 256, 37}) {
        for (const int64_t T : {1, 7, 96}) {
          const Dims d{B, T, 7, H, 2, /*with_state=*/(T + H) % 2 == 1};
          check_against_reference(d, ++seed, pc, LstmConfig{});
        }
      }
    }
  }
}

TEST_CASE("GPU LSTM in NF4 matches the CPU reference: B {1, 3} x H {128, 256, 96} x T {1, 7, 96}") {
  QRT_REQUIRE_GPU();
  uint64_t seed = 9700;
  const PrecisionCase nf4{LstmPrecision::kNf4, {}, "nf4", kNf4Tolerance};
  for (const int64_t B : {1, 3}) {
    for (const int64_t H : {128, 256, 96}) {
      for (const int64_t T : {1, 7, 96}) {
        // NF4 blocks run along each row, so the block must divide C and H (C = 64: both 32 and 64).
        const int64_t block = H % 64 == 0 ? 64 : 32;
        const Dims d{B, T, 64, H, 2, /*with_state=*/(T + B) % 2 == 0};
        check_against_reference(d, ++seed, nf4, LstmConfig{}, block);
      }
    }
  }
  // Every cluster size, a partial cluster, three layers, a wide input.
  for (const int cluster : {1, 2, 4, 8})
    check_against_reference({3, 11, 32, 64, 2, true}, ++seed, nf4, LstmConfig{cluster, 1}, 32);
  check_against_reference({5, 9, 64, 128, 3, true}, ++seed, nf4, LstmConfig{8, 2}, 64);
}

TEST_CASE("GPU LSTM: every cluster size, partial clusters, one and three layers") {
  QRT_REQUIRE_GPU();
  uint64_t seed = 9500;
  for (const PrecisionCase& pc : precision_cases()) {
    // H = 64 fits one CTA in every precision, so all cluster sizes are possible.
    for (const int cluster : {1, 2, 4, 8}) {
      check_against_reference({3, 11, 7, 64, 2, true}, ++seed, pc, LstmConfig{cluster, 1});
    }
    // B = 5 over clusters of 2 rows: the last cluster serves one row.
    check_against_reference({5, 9, 7, 128, 2, true}, ++seed, pc, LstmConfig{8, 2});
    check_against_reference({2, 13, 5, 96, 1, false}, ++seed, pc, LstmConfig{});
    check_against_reference({1, 17, 3, 40, 3, true}, ++seed, pc, LstmConfig{4, 1});
    // A batch larger than the clusters that fit at once: adaptive rows per cluster (several rows
    // per cluster, the last cluster partial).
    check_against_reference({40, 5, 7, 256, 2, true}, ++seed, pc, LstmConfig{});
    // A wide input (C = 300): the input projection's loops, and int8-dynamic's quantized x
    // (with C < 16, as everywhere else here, both sides use the decoded-f32 rule instead).
    check_against_reference({2, 5, 300, 48, 2, false}, ++seed, pc, LstmConfig{});
  }
}

TEST_CASE("launch_lstm rejects bad arguments, naming them") {
  QRT_REQUIRE_GPU();  // a plan needs a device
  const Dims d{1, 4, 7, 32, 2, false};
  const FloatLstm f = random_lstm(d, 9900);
  const StoredWeights s = store_weights(f);
  const std::vector<LstmLayerWeights> layers = layer_weights(f, s);
  auto plan = LstmPlan::prepare({LstmPrecision::kFp16, d.C, d.H, d.L, {}}, layers);
  REQUIRE_MESSAGE(plan.is_ok(), plan.status().to_string());
  qrt::cuda::DeviceBuffer x = upload(f.x);
  qrt::cuda::DeviceBuffer y = poisoned_floats(static_cast<std::size_t>(d.B * d.T * d.H));
  qrt::cuda::DeviceBuffer ws = poisoned_floats(plan->workspace_bytes(d.B, d.T) / 4);
  LstmRunArgs good;
  good.batch = d.B;
  good.steps = d.T;
  good.x = x.as<float>();
  good.y = y.as<float>();
  good.workspace = ws.data();
  good.workspace_bytes = plan->workspace_bytes(d.B, d.T);

  LstmRunArgs a = good;
  a.steps = 0;
  CHECK(contains(qrt::cuda::launch_lstm(*plan, a, nullptr).message(), "steps 0"));
  a = good;
  a.batch = -1;
  CHECK(contains(qrt::cuda::launch_lstm(*plan, a, nullptr).message(), "batch -1"));
  a = good;
  a.x = nullptr;
  CHECK(contains(qrt::cuda::launch_lstm(*plan, a, nullptr).message(), "x is null"));
  a = good;
  a.workspace_bytes -= 4;
  CHECK(contains(qrt::cuda::launch_lstm(*plan, a, nullptr).message(), "workspace"));
  a = good;
  a.y = const_cast<float*>(a.x);
  CHECK(contains(qrt::cuda::launch_lstm(*plan, a, nullptr).message(), "same buffer"));
  const Status ok = qrt::cuda::launch_lstm(*plan, good, nullptr);
  CHECK_MESSAGE(ok.is_ok(), ok.to_string());
  CHECK(cudaDeviceSynchronize() == cudaSuccess);
}

}  // namespace
