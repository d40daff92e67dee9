// The CUDA Linear entries (cuda/kernels/linear_*_kernel.*) through runtime::Kernel prepare/run on
// device buffers against the CPU reference kernels (ops/quantized/), one precision per case, on
// random data with printed seeds and shapes with 1, primes and sizes that are not multiples of
// the GEMM tiles. Without a GPU the registry wiring and the clean prepare failure are checked and
// the numerics are skipped.
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

struct Dims {
  ir::Shape lead;  // x is lead + [K]; M = numel(lead)
  int64_t K, N;
};
// int8 GEMM rows are read in 16-byte pieces and the NF4 blocks are >= 32, so K stays a multiple
// of 32; M and N take 1, primes and values off every tile size (GEMM tiles are 64..256, the
// weight-only kernels take 16 rows per launch).
const Dims kShapes[] = {
    {{1}, 32, 1}, {{7}, 64, 13}, {{2, 3}, 96, 131}, {{37}, 256, 672}, {{1, 1}, 128, 257}};

ir::Shape with_last(ir::Shape s, int64_t last) {
  s.push_back(last);
  return s;
}

QInput int8_weight(const std::vector<float>& wf, int64_t N, int64_t K) {
  auto q = ir::quantize_weight_per_channel({wf, {N, K}});
  REQUIRE_MESSAGE(q.is_ok(), q.status().to_string());
  return raw_constant("w", ir::DType::kI8, {N, K}, q->codes.data(), q->codes.size(), q->params);
}

QInput weight_for(const std::string& precision, const std::vector<float>& wf, int64_t N,
                  int64_t K) {
  if (precision == "nf4") {
    auto q = ir::quantize_nf4({wf, {N, K}}, 32, /*double_quant=*/true);
    REQUIRE_MESSAGE(q.is_ok(), q.status().to_string());
    return raw_constant("w", ir::DType::kNF4, {N, K}, q->packed.data(), q->packed.size(),
                        q->params);
  }
  if (precision == "fp16") {
    std::vector<uint16_t> bits(wf.size());
    for (std::size_t i = 0; i < wf.size(); ++i) bits[i] = ir::float_to_f16_bits(wf[i]);
    return raw_constant("w", ir::DType::kF16, {N, K}, bits.data(), bits.size() * 2, std::nullopt);
  }
  return int8_weight(wf, N, K);
}

ir::QuantParams per_tensor(float scale, std::optional<int32_t> zero_point) {
  ir::QuantParams q;
  q.scheme = zero_point ? ir::QuantScheme::kAffinePerTensor : ir::QuantScheme::kSymmetricPerTensor;
  q.scales = {scale};
  if (zero_point) q.zero_points = {*zero_point};
  return q;
}

struct Variant {
  const char* precision;
  float outlier_threshold;
  std::optional<ir::QuantParams> x_quant;  // int8-static calibration
  // GPU vs CPU reference, relative to max |y|: the int8 paths share their integer sums but a
  // row scale may differ by an ulp (absmax / 127 in float vs double), flipping a rare tie; the
  // weight-only paths round x to f16 (2^-11 relative per element, ~2^-11·√K/√K over the sum); fp16
  // rounds the output to f16 on both sides, so a flip is one f16 ulp (2^-11). A wrong scale,
  // index or missing bias term is off by O(1).
  double tolerance;
  const char* entry;
};

std::vector<Variant> variants() {
  return {
      {"int8-dynamic", 0.0f, std::nullopt, 2e-3, "cuda.linear.int8-dynamic"},
      {"int8-dynamic", 2.5f, std::nullopt, 2e-3, "cuda.linear.int8-dynamic"},
      {"int8-static", 0.0f, per_tensor(3.0f / 127.0f, std::nullopt), 1e-3,
       "cuda.linear.int8-static"},
      {"int8-static", 0.0f, per_tensor(6.0f / 255.0f, 131), 1e-3, "cuda.linear.int8-static"},
      {"w8a16", 0.0f, std::nullopt, 4e-3, "cuda.linear.w8a16"},
      {"nf4", 0.0f, std::nullopt, 4e-3, "cuda.linear.nf4"},
      {"fp16", 0.0f, std::nullopt, 2e-3, "cuda.linear.fp16"},
  };
}

// One Linear of shape `d` in variant `v` (with `activation` fused) on the GPU entry against the
// CPU kernels: normal x (stddev 1, so that a threshold of 2.5 marks a few outlier columns),
// normal weights, uniform bias, all from `seed`.
void check_against_cpu(const Variant& v, const Dims& d, ir::FusedActivation activation,
                       uint64_t seed) {
  const int64_t M = ir::numel(d.lead);
  INFO("precision ", std::string(v.precision), ", threshold ", v.outlier_threshold, ", affine ",
       v.x_quant && !v.x_quant->zero_points.empty(), ", M ", M, " K ", d.K, " N ", d.N,
       ", activation ", ir::fused_activation_name(activation), ", seed ", seed);
  QCase c;
  c.op = ir::OpKind::kLinear;
  c.attrs = ir::LinearAttrs{activation};
  c.precision.precision = v.precision;
  c.precision.outlier_threshold = v.outlier_threshold;
  c.inputs = {f32_input("x", with_last(d.lead, d.K),
                        random_normal(static_cast<std::size_t>(M * d.K), seed), v.x_quant),
              weight_for(v.precision, random_normal(static_cast<std::size_t>(d.N * d.K), seed + 1),
                         d.N, d.K),
              f32_constant("b", {d.N}, random_floats(static_cast<std::size_t>(d.N), seed + 2))};
  c.output_shapes = {with_last(d.lead, d.N)};
  CudaKernelRun gpu;
  if (!run_on_gpu_or_skip(c, v.entry, gpu)) return;
  auto cpu = run_quantized_op(c);
  REQUIRE_MESSAGE(cpu.is_ok(), cpu.status().to_string());
  // The activations are at most 1.13-Lipschitz (GELU), so the error allowed before the activation
  // bounds the one after it: scale the tolerance by the pre-activation range, since sigmoid and
  // tanh squash max|y| to 1 but pass an error near 0 through almost unchanged.
  double absolute = 0.0;
  if (activation != ir::FusedActivation::kNone) {
    QCase plain = c;
    plain.attrs = ir::LinearAttrs{};
    auto pre = run_quantized_op(plain);
    REQUIRE_MESSAGE(pre.is_ok(), pre.status().to_string());
    absolute = 1.13 * v.tolerance * max_abs(pre->outputs[0]);
  }
  check_close(gpu.outputs[0], cpu->outputs[0], v.tolerance, absolute);
}

TEST_CASE("CUDA Linear entries match the CPU reference kernels") {
  uint64_t seed = 91000;
  for (const Variant& v : variants())
    for (const Dims& d : kShapes) check_against_cpu(v, d, ir::FusedActivation::kNone, ++seed);
  QRT_REQUIRE_GPU();  // reports the skip once when the loop above only checked the wiring
}

// A fused activation (ir::LinearAttrs, ir::passes::fuse_activations) in every precision's entry:
// the int8 GEMM epilogue, the fp16 bias-and-round kernel, the pass after the weight-only GEMV.
TEST_CASE("CUDA Linear entries apply a fused activation like the CPU kernels") {
  uint64_t seed = 92000;
  for (const Variant& v : variants()) {
    for (const ir::FusedActivation activation :
         {ir::FusedActivation::kRelu, ir::FusedActivation::kGeluErf, ir::FusedActivation::kGeluTanh,
          ir::FusedActivation::kSilu, ir::FusedActivation::kSigmoid, ir::FusedActivation::kTanh})
      check_against_cpu(v, {{7}, 64, 13}, activation, ++seed);
  }
  QRT_REQUIRE_GPU();
}

TEST_CASE("CUDA Linear: forms the GPU kernels do not take are left to the CPU") {
  const uint64_t seed = 91500;
  INFO("seed ", seed);
  const std::vector<float> x = random_floats(3 * 20, seed);
  const std::vector<float> wf = random_floats(5 * 20, seed + 1);
  QCase c;
  c.op = ir::OpKind::kLinear;
  c.attrs = ir::LinearAttrs{};
  c.precision.precision = "int8-dynamic";
  c.inputs = {f32_input("x", {3, 20}, x), int8_weight(wf, 5, 20)};
  c.output_shapes = {{3, 5}};
  // K = 20 is not a multiple of 16, which the int8 GEMM and the weight-only kernels need: no CUDA
  // entry supports the node (kernel selection does not fall back after a failed prepare), so a
  // non-strict session picks the CPU kernel.
  CHECK(run_cuda_kernel(c).entry.empty());
  for (const char* precision : {"int8-static", "w8a16"}) {
    QCase other = c;
    other.precision.precision = precision;
    if (std::string(precision) == "int8-static")
      other.inputs[0] = f32_input("x", {3, 20}, x, per_tensor(1.0f / 127.0f, std::nullopt));
    INFO(precision);
    CHECK(run_cuda_kernel(other).entry.empty());
  }
  // fp32 and bf16 Linear have no CUDA entry.
  c.precision.precision = "fp32";
  c.inputs[1] = f32_constant("w", {5, 20}, wf);
  CHECK(run_cuda_kernel(c).entry.empty());

  // K = 32 is taken.
  const std::vector<float> x32 = random_floats(3 * 32, seed + 2);
  const std::vector<float> w32 = random_floats(5 * 32, seed + 3);
  c.precision.precision = "int8-dynamic";
  c.inputs = {f32_input("x", {3, 32}, x32), int8_weight(w32, 5, 32)};
  CHECK(run_cuda_kernel(c).entry == "cuda.linear.int8-dynamic");
}

}  // namespace
}  // namespace qrt::testing
