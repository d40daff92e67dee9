// The weight-only GEMV / small-M GEMM kernels (cuda/weight_only/) against a double-precision CPU
// product with the weights dequantized by ir/quantize.h: W8A16 (int8 per channel) and NF4 (block
// absmax, with and without double quantization). Shape checks run everywhere; the numerics skip
// without a GPU.
#include <doctest/doctest.h>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cuda/device_buffer.h"
#include "cuda/weight_only/weight_only.cuh"
#include "ir/quantize.h"
#include "tests/cuda/cuda_test_support.h"
#include "tests/support/gpu_guard.h"
#include "tests/support/random.h"

namespace {

using qrt::Status;
using qrt::StatusCode;
using qrt::cuda::DeviceBuffer;
namespace wo = qrt::cuda::weight_only;
using namespace qrt::testing;  // the CUDA test helpers (cuda_test_support.h)

// The kernels accumulate in f32 (products of f16 activations and dequantized weights, partial sums
// of 16 or 32 terms, then a sum over K/16 or K/32 partials). Summation error of n float additions
// grows like √n·2^-24 relative to Σ|x·w| for random signs and n·2^-24 in the worst case; K <= 8192
// here gives at most 8192·6e-8 = 5e-4 worst case, ~5e-6 typical. 1e-4 of Σ|x·ŵ| covers it, while
// a wrong element or a wrong scale changes the result by O(|x·ŵ|) of one term at least, which for
// these random data exceeds 1e-4 of the sum.
constexpr double kAccumulationTolerance = 1e-4;
// Dequantizing NF4 as (codebook·x summed)·absmax instead of Σ (codebook·absmax)·x (the CPU form):
// one extra float rounding per term, inside the tolerance above.
// f16 output: one rounding to 11 significant bits (2^-11 relative) plus the f16 subnormal spacing.
constexpr double kF16OutputRelative = 1.0 / 2048;
constexpr double kF16OutputAbsolute = 6e-8;
constexpr std::size_t kCanary = 32;
constexpr unsigned char kPoisonByte = 0x7f;

struct Problem {
  int64_t m, n, k;
};

struct Activations {
  std::vector<__half> device_form;  // uploaded
  std::vector<float> values;        // the same values widened (exact)
};

Activations random_activations(int64_t m, int64_t k, uint64_t seed) {
  const auto raw = qrt::testing::random_normal(static_cast<std::size_t>(m * k), seed, 1.0f);
  Activations a;
  a.device_form.resize(raw.size());
  a.values.resize(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    a.device_form[i] = __float2half_rn(raw[i]);
    a.values[i] = __half2float(a.device_form[i]);
  }
  return a;
}

// y = x·Ŵᵀ + b in double, and Σ|x·ŵ| + |b| per output (the tolerance's scale).
void reference(const std::vector<float>& x, const std::vector<float>& w_hat,
               const std::vector<float>& bias, const Problem& p, std::vector<double>& y,
               std::vector<double>& magnitude) {
  y.assign(static_cast<std::size_t>(p.m * p.n), 0.0);
  magnitude.assign(y.size(), 0.0);
  for (int64_t i = 0; i < p.m; ++i) {
    for (int64_t j = 0; j < p.n; ++j) {
      double sum = bias.empty() ? 0.0 : bias[static_cast<std::size_t>(j)];
      double mag = std::fabs(sum);
      for (int64_t c = 0; c < p.k; ++c) {
        const double term = static_cast<double>(x[static_cast<std::size_t>(i * p.k + c)]) *
                            w_hat[static_cast<std::size_t>(j * p.k + c)];
        sum += term;
        mag += std::fabs(term);
      }
      y[static_cast<std::size_t>(i * p.n + j)] = sum;
      magnitude[static_cast<std::size_t>(i * p.n + j)] = mag;
    }
  }
}

// Compares a poisoned-then-written output with the reference; checks the canary.
void check_output(const DeviceBuffer& y, wo::WeightOnlyOutput output,
                  const std::vector<double>& expected, const std::vector<double>& magnitude) {
  const std::size_t element = output == wo::WeightOnlyOutput::kF32 ? 4 : 2;
  const auto bytes = download_bytes(y);
  const std::size_t used = expected.size() * element;
  CHECK(canary_damage(bytes, used, kPoisonByte) == 0);
  std::size_t bad = 0;
  int64_t first = -1;
  double first_got = 0.0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    double got;
    double tolerance = kAccumulationTolerance * magnitude[i];
    if (output == wo::WeightOnlyOutput::kF32) {
      float v;
      std::memcpy(&v, bytes.data() + i * 4, 4);
      got = v;
    } else {
      __half h;
      std::memcpy(&h, bytes.data() + i * 2, 2);
      got = __half2float(h);
      tolerance += kF16OutputRelative * std::fabs(expected[i]) + kF16OutputAbsolute;
    }
    if (!(std::fabs(got - expected[i]) <= tolerance)) {
      if (first < 0) {
        first = static_cast<int64_t>(i);
        first_got = got;
      }
      ++bad;
    }
  }
  if (first >= 0) {
    INFO("first bad output (flat index ", first, "): got ", first_got, ", expected ",
         expected[static_cast<std::size_t>(first)], " (", bad, " bad)");
    CHECK(bad == 0);
  }
}

const Problem kProblems[] = {
    {1, 1, 64},   {1, 7, 4096}, {2, 37, 1024},   {3, 257, 192},
    {4, 16, 512}, {5, 33, 320}, {16, 130, 2048}, {16, 1, 8192},
};

// ---------------------------------------------------------------------------------------------------

TEST_CASE("shape checks name the dimension at fault") {
  CHECK(wo::can_implement_w8a16(1, 8, 64).is_ok());
  CHECK(wo::can_implement_w8a16(0, 8, 64).is_ok());
  Status s = wo::can_implement_w8a16(17, 8, 64);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(contains(s.message(), "M = 17 exceeds 16"));
  s = wo::can_implement_w8a16(1, 8, 24);
  CHECK(contains(s.message(), "K = 24 is not a multiple of 16"));
  s = wo::can_implement_nf4(1, 8, 128, 48);
  CHECK(contains(s.message(), "not a power of two"));
  s = wo::can_implement_nf4(1, 8, 96, 64);
  CHECK(contains(s.message(), "does not divide K = 96"));
  CHECK(wo::can_implement_nf4(16, 8, 4096, 64).is_ok());

  alignas(16) __half x[64] = {};
  alignas(16) int8_t codes[64] = {};
  float scales[1] = {1.0f};
  alignas(16) float y[4] = {};
  const wo::Int8Weights w{codes, scales};
  s = wo::launch_w8a16_gemm(nullptr, 1, 1, 64, w, nullptr, wo::WeightOnlyOutput::kF32, y, nullptr);
  CHECK(contains(s.message(), "x is null"));
  s = wo::launch_w8a16_gemm(x + 1, 1, 1, 64, w, nullptr, wo::WeightOnlyOutput::kF32, y, nullptr);
  CHECK(contains(s.message(), "x is not 16-byte aligned"));
  s = wo::launch_w8a16_gemm(x, 1, 1, 64, wo::Int8Weights{codes, nullptr}, nullptr,
                            wo::WeightOnlyOutput::kF32, y, nullptr);
  CHECK(contains(s.message(), "scales are null"));
  wo::Nf4Weights nf4;
  nf4.packed = reinterpret_cast<const uint8_t*>(codes);
  s = wo::launch_nf4_gemm(x, 1, 1, 64, nf4, nullptr, wo::WeightOnlyOutput::kF16, y, nullptr);
  CHECK(contains(s.message(), "absmax"));
}

TEST_CASE("W8A16 matches x·(s·q)ᵀ + b for M in 1..16, f32 and f16 outputs") {
  QRT_REQUIRE_GPU();
  for (std::size_t pi = 0; pi < std::size(kProblems); ++pi) {
    const Problem p = kProblems[pi];
    if (sanitizer_quick_mode() && p.m * p.n * p.k > kQuickModeMaxWork) continue;
    const uint64_t seed = 14000 + 10 * pi;
    INFO("M = ", p.m, ", N = ", p.n, ", K = ", p.k, ", seed = ", seed);
    const Activations x = random_activations(p.m, p.k, seed);
    const auto w_float =
        qrt::testing::random_normal(static_cast<std::size_t>(p.n * p.k), seed + 1, 0.02f);
    auto w = qrt::ir::quantize_weight_per_channel({w_float, {p.n, p.k}});
    REQUIRE(w.is_ok());
    std::vector<float> w_hat(w->codes.size());  // ŵ[n, k] = s[n]·q[n, k]
    for (int64_t j = 0; j < p.n; ++j)
      for (int64_t c = 0; c < p.k; ++c) {
        const auto i = static_cast<std::size_t>(j * p.k + c);
        w_hat[i] = w->params.scales[static_cast<std::size_t>(j)] * static_cast<float>(w->codes[i]);
      }
    const auto bias = qrt::testing::random_floats(static_cast<std::size_t>(p.n), seed + 2);
    std::vector<double> expected, magnitude;
    reference(x.values, w_hat, bias, p, expected, magnitude);
    REQUIRE(*std::max_element(magnitude.begin(), magnitude.end()) > 0.0);

    auto device_x = upload(x.device_form);
    auto device_codes = upload(w->codes);
    auto device_scales = upload(w->params.scales);
    auto device_bias = upload(bias);
    for (const auto output : {wo::WeightOnlyOutput::kF32, wo::WeightOnlyOutput::kF16}) {
      INFO("output ", output == wo::WeightOnlyOutput::kF32 ? "f32" : "f16");
      const std::size_t element = output == wo::WeightOnlyOutput::kF32 ? 4 : 2;
      DeviceBuffer y = poisoned((expected.size() + kCanary) * element, kPoisonByte);
      const Status status = wo::launch_w8a16_gemm(
          device_x.as<const __half>(), p.m, p.n, p.k,
          wo::Int8Weights{device_codes.as<const int8_t>(), device_scales.as<const float>()},
          device_bias.as<const float>(), output, y.data(), nullptr);
      REQUIRE_MESSAGE(status.is_ok(), status.to_string());
      REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
      check_output(y, output, expected, magnitude);
    }
  }
}

TEST_CASE(
    "NF4 matches x·dequantize_nf4(W)ᵀ + b: block sizes 32/64/128, with and without double "
    "quantization") {
  QRT_REQUIRE_GPU();
  const int64_t block_sizes[] = {64, 32, 128};
  for (std::size_t pi = 0; pi < std::size(kProblems); ++pi) {
    const Problem p = kProblems[pi];
    if (sanitizer_quick_mode() && p.m * p.n * p.k > kQuickModeMaxWork) continue;
    const int64_t block = block_sizes[pi % std::size(block_sizes)];
    if (p.k % block != 0) continue;
    for (const bool double_quant : {true, false}) {
      const uint64_t seed = 15000 + 10 * pi + (double_quant ? 1 : 0);
      INFO("M = ", p.m, ", N = ", p.n, ", K = ", p.k, ", block ", block, ", double quant ",
           double_quant, ", seed = ", seed);
      const Activations x = random_activations(p.m, p.k, seed);
      const auto w_float =
          qrt::testing::random_normal(static_cast<std::size_t>(p.n * p.k), seed + 1, 0.02f);
      auto w = qrt::ir::quantize_nf4({w_float, {p.n, p.k}}, block, double_quant);
      REQUIRE_MESSAGE(w.is_ok(), w.status().to_string());
      auto w_hat = qrt::ir::dequantize_nf4(w->packed, {p.n, p.k}, w->params);
      REQUIRE(w_hat.is_ok());
      const std::vector<float> bias;  // no bias here; W8A16 covers it
      std::vector<double> expected, magnitude;
      reference(x.values, *w_hat, bias, p, expected, magnitude);
      REQUIRE(*std::max_element(magnitude.begin(), magnitude.end()) > 0.0);

      auto device_x = upload(x.device_form);
      auto device_packed = upload(w->packed);
      DeviceBuffer device_absmax, device_codes, device_groups;
      wo::Nf4Weights weights;
      weights.block_size = block;
      weights.packed = device_packed.as<const uint8_t>();
      if (double_quant) {
        device_codes = upload(w->params.absmax_codes);
        device_groups = upload(w->params.group_scales);
        weights.absmax_codes = device_codes.as<const int8_t>();
        weights.group_scales = device_groups.as<const float>();
        weights.absmax_offset = w->params.absmax_offset;
        weights.group_size = w->params.group_size;
      } else {
        device_absmax = upload(w->params.scales);
        weights.absmax = device_absmax.as<const float>();
      }
      for (const auto output : {wo::WeightOnlyOutput::kF32, wo::WeightOnlyOutput::kF16}) {
        INFO("output ", output == wo::WeightOnlyOutput::kF32 ? "f32" : "f16");
        const std::size_t element = output == wo::WeightOnlyOutput::kF32 ? 4 : 2;
        DeviceBuffer y = poisoned((expected.size() + kCanary) * element, kPoisonByte);
        const Status status = wo::launch_nf4_gemm(device_x.as<const __half>(), p.m, p.n, p.k,
                                                  weights, nullptr, output, y.data(), nullptr);
        REQUIRE_MESSAGE(status.is_ok(), status.to_string());
        REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
        check_output(y, output, expected, magnitude);
      }
    }
  }
}

}  // namespace
