// The fused CUDA LayerNorm (cuda/layer_norm.cuh) against the CPU reference kernel (ops/layer_norm,
// run through tests/ops/op_harness.h) followed by a double-precision activation written here from
// the PyTorch definitions and ir::quantize_symmetric per row: f32/f16 in and out, with and without
// gamma/beta, fused activations, int8 output. Random data with fixed printed seeds, rows {1, 3, 64}
// x D {1, 7, 256, 4099}; outputs poisoned (NaN / 0x80 bytes) with canaries after them. Without a
// GPU the numerics skip; argument validation runs everywhere.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "cuda/device_buffer.h"
#include "cuda/layer_norm.cuh"
#include "ir/half.h"
#include "ir/quantize.h"
#include "tests/cuda/cuda_test_support.h"
#include "tests/ops/op_harness.h"
#include "tests/support/gpu_guard.h"
#include "tests/support/random.h"

namespace {

using qrt::Status;
using qrt::StatusCode;
using qrt::cuda::ActivationKind;
using qrt::cuda::LayerNormArgs;
using qrt::ir::DType;
using namespace qrt::testing;  // the CUDA test helpers (cuda_test_support.h)

// f32 output: the kernel accumulates the statistics in f32 (the reference in double); for D up to
// 4099 and unit-scale data that moves mean and 1/std by a few 1e-7 relative, i.e. well under 2e-5
// on outputs of magnitude < 10.
constexpr double kF32AbsoluteTolerance = 2e-5;
constexpr double kF32RelativeTolerance = 1e-5;
// f16 output: one rounding to f16 (half an ulp, 2^-11 relative) on top of the f32 difference;
// a value next to a rounding tie may land one ulp (2^-10 relative) away.
constexpr double kF16RelativeTolerance = 1.0 / 1024.0;
// int8 output: the scale agrees to f32 rounding; a code may differ by one where v / s lies within
// the f32 difference of a .5 tie, which on random data is rare.
constexpr double kScaleRelativeTolerance = 1e-5;
constexpr double kMaxCodeMismatchFraction = 0.01;

constexpr std::size_t kCanaryBytes = 64;
constexpr unsigned char kCodePoison = 0x80;

struct Case {
  int64_t rows, cols;
  DType x_dtype, y_dtype;
  bool affine;  // gamma and beta given
  std::optional<ActivationKind> activation;
  bool want_y, want_q;
};

std::string describe(const Case& c) {
  return "rows " + std::to_string(c.rows) + " D " + std::to_string(c.cols) + " x " +
         qrt::ir::dtype_name(c.x_dtype) + " y " + qrt::ir::dtype_name(c.y_dtype) +
         (c.affine ? " gamma/beta" : " plain") +
         (c.activation ? std::string(" + ") + qrt::cuda::activation_name(*c.activation) : "") +
         (c.want_y ? " y" : "") + (c.want_q ? " q" : "");
}

constexpr float kLeakySlope = 0.1f;
constexpr float kEps = 1e-5f;

void run_case(const Case& c, uint64_t seed) {
  INFO("seed " << seed << " " << describe(c));
  const auto n = static_cast<std::size_t>(c.rows * c.cols);
  // Inputs with a common offset per row (|mean| ~ std) to exercise the two-pass variance.
  std::vector<float> x = qrt::testing::random_normal(n, seed, 1.5f);
  for (int64_t r = 0; r < c.rows; ++r)
    for (int64_t d = 0; d < c.cols; ++d) x[r * c.cols + d] += static_cast<float>(r % 5) - 2.0f;
  std::vector<uint16_t> x_half(n);
  if (c.x_dtype == DType::kF16) {
    // The kernel widens f16 exactly; the reference sees the same (rounded) values in f32.
    for (std::size_t i = 0; i < n; ++i) {
      x_half[i] = qrt::ir::float_to_f16_bits(x[i]);
      x[i] = qrt::ir::f16_bits_to_float(x_half[i]);
    }
  }
  const std::vector<float> gamma =
      qrt::testing::random_floats(static_cast<std::size_t>(c.cols), seed + 1, 0.5f, 1.5f);
  const std::vector<float> beta =
      qrt::testing::random_floats(static_cast<std::size_t>(c.cols), seed + 2, -0.5f, 0.5f);

  // Reference: the CPU LayerNorm kernel, then the activation in double.
  qrt::testing::OpCase op;
  op.op = qrt::ir::OpKind::kLayerNorm;
  op.attrs = qrt::ir::LayerNormAttrs{kEps};
  op.inputs.push_back(qrt::testing::HostTensor{{c.rows, c.cols}, x});
  if (c.affine) {
    op.inputs.push_back(qrt::testing::HostTensor{{c.cols}, gamma});
    op.inputs.push_back(qrt::testing::HostTensor{{c.cols}, beta});
  }
  op.output_shapes = {{c.rows, c.cols}};
  auto normalized = qrt::testing::run_cpu_op(op);
  REQUIRE_MESSAGE(normalized.is_ok(), normalized.status().to_string());
  std::vector<double> want(n);
  std::vector<float> want_f32(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double v = (*normalized)[0][i];
    want[i] = c.activation ? activation_reference(*c.activation, v, kLeakySlope) : v;
    want_f32[i] = static_cast<float>(want[i]);
  }
  double norm = 0.0;
  for (const double v : want) norm += v * v;
  if (c.cols > 1) REQUIRE(norm > 0.0);

  // GPU run on poisoned outputs.
  qrt::cuda::DeviceBuffer x_dev = c.x_dtype == DType::kF16 ? upload(x_half) : upload(x);
  qrt::cuda::DeviceBuffer gamma_dev = upload(gamma), beta_dev = upload(beta);
  const std::size_t y_bytes = n * (c.y_dtype == DType::kF16 ? 2 : 4);
  qrt::cuda::DeviceBuffer y_dev = poisoned(y_bytes + kCanaryBytes, 0xFF);
  // q poison: -128, a byte no code takes (codes lie in [-127, 127]), so an unwritten code fails.
  qrt::cuda::DeviceBuffer q_dev = poisoned(n + kCanaryBytes, kCodePoison);
  qrt::cuda::DeviceBuffer scales_dev =
      poisoned(static_cast<std::size_t>(c.rows) * 4 + kCanaryBytes, 0xFF);
  LayerNormArgs args;
  args.rows = c.rows;
  args.cols = c.cols;
  args.eps = kEps;
  args.x_dtype = c.x_dtype;
  args.x = x_dev.data();
  args.gamma = c.affine ? gamma_dev.as<float>() : nullptr;
  args.beta = c.affine ? beta_dev.as<float>() : nullptr;
  args.fuse_activation = c.activation.has_value();
  args.activation = c.activation.value_or(ActivationKind::kRelu);
  args.activation_param = kLeakySlope;
  args.y_dtype = c.y_dtype;
  args.y = c.want_y ? y_dev.data() : nullptr;
  args.q = c.want_q ? q_dev.as<int8_t>() : nullptr;
  args.q_scales = c.want_q ? scales_dev.as<float>() : nullptr;
  const Status status = qrt::cuda::launch_layer_norm(args, nullptr);
  REQUIRE_MESSAGE(status.is_ok(), status.to_string());
  const cudaError_t synced = cudaDeviceSynchronize();
  REQUIRE_MESSAGE(synced == cudaSuccess, cudaGetErrorString(synced));

  const std::vector<unsigned char> y_bytes_host =
      download_checked<unsigned char>(y_dev, y_bytes, 0xFF);
  if (c.want_y) {
    double worst = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      float got = 0.0f;
      double allowed = 0.0;
      if (c.y_dtype == DType::kF16) {
        uint16_t bits = 0;
        std::memcpy(&bits, y_bytes_host.data() + 2 * i, 2);
        got = qrt::ir::f16_bits_to_float(bits);
        allowed = kF16RelativeTolerance * std::max(1.0, std::fabs(want[i]));
      } else {
        std::memcpy(&got, y_bytes_host.data() + 4 * i, 4);
        allowed = kF32AbsoluteTolerance + kF32RelativeTolerance * std::fabs(want[i]);
      }
      const double diff = std::fabs(got - want[i]);
      if (!(diff <= allowed)) {
        INFO("element " << i << ": got " << got << ", expected " << want[i]);
        REQUIRE(diff <= allowed);  // also fails on NaN (an element never written)
      }
      worst = std::max(worst, diff);
    }
    MESSAGE(describe(c) << ": max |y - reference| = " << worst);
  } else {
    // y not requested: untouched.
    for (const unsigned char b : y_bytes_host) REQUIRE(b == 0xFF);
  }

  const std::vector<unsigned char> q_host = download_checked<unsigned char>(q_dev, n, kCodePoison);
  const std::vector<unsigned char> scale_bytes =
      download_checked<unsigned char>(scales_dev, static_cast<std::size_t>(c.rows) * 4, 0xFF);
  if (c.want_q) {
    qrt::ir::QuantizeSpec spec;
    spec.granularity = qrt::ir::Granularity::kPerRow;
    auto expected = qrt::ir::quantize_symmetric({want_f32, {c.rows, c.cols}}, spec);
    REQUIRE_MESSAGE(expected.is_ok(), expected.status().to_string());
    int64_t mismatches = 0;
    for (int64_t r = 0; r < c.rows; ++r) {
      float scale = 0.0f;
      std::memcpy(&scale, scale_bytes.data() + 4 * r, 4);
      const float want_scale = expected->params.scales[static_cast<std::size_t>(r)];
      INFO("row " << r << ": scale " << scale << ", expected " << want_scale);
      REQUIRE(std::fabs(scale - want_scale) <= kScaleRelativeTolerance * want_scale);
      for (int64_t d = 0; d < c.cols; ++d) {
        const auto i = static_cast<std::size_t>(r * c.cols + d);
        const int got = static_cast<int8_t>(q_host[i]);
        const int code = expected->codes[i];
        REQUIRE(got >= -127);  // -128 is the poison: never written
        REQUIRE(std::abs(got - code) <= 1);
        if (got != code) ++mismatches;
      }
    }
    MESSAGE(describe(c) << ": " << mismatches << " of " << n << " codes one step off");
    CHECK(static_cast<double>(mismatches) <= kMaxCodeMismatchFraction * static_cast<double>(n) + 1);
  } else {
    for (const unsigned char b : q_host) REQUIRE(b == kCodePoison);
  }
}

// ---------------------------------------------------------------------------------------------------
// Argument validation (every check precedes the first CUDA call: runs without a GPU).

TEST_CASE("launch_layer_norm rejects bad arguments, naming them") {
  alignas(16) float x[8] = {}, y[8] = {}, scales[2] = {};
  alignas(16) int8_t q[8] = {};
  LayerNormArgs good;
  good.rows = 2;
  good.cols = 4;
  good.x = x;
  good.y = y;

  LayerNormArgs a = good;
  a.cols = 0;
  CHECK(contains(qrt::cuda::launch_layer_norm(a, nullptr).message(), "cols = 0"));
  a = good;
  a.rows = -1;
  CHECK(contains(qrt::cuda::launch_layer_norm(a, nullptr).message(), "rows = -1"));
  a = good;
  a.eps = -1.0f;
  CHECK(contains(qrt::cuda::launch_layer_norm(a, nullptr).message(), "eps"));
  a = good;
  a.x_dtype = DType::kI8;
  CHECK(contains(qrt::cuda::launch_layer_norm(a, nullptr).message(), "x dtype i8"));
  a = good;
  a.y = nullptr;
  CHECK(contains(qrt::cuda::launch_layer_norm(a, nullptr).message(), "neither y nor q"));
  a = good;
  a.q = q;
  CHECK(contains(qrt::cuda::launch_layer_norm(a, nullptr).message(), "without q_scales"));
  a = good;
  a.x = nullptr;
  CHECK(contains(qrt::cuda::launch_layer_norm(a, nullptr).message(), "x is null"));
  a = good;
  a.y = x + 1;
  CHECK(contains(qrt::cuda::launch_layer_norm(a, nullptr).message(), "y overlaps x"));
  a = good;
  a.fuse_activation = true;
  a.activation = static_cast<ActivationKind>(42);
  CHECK(contains(qrt::cuda::launch_layer_norm(a, nullptr).message(), "activation kind 42"));
  a = good;
  a.q = q;
  a.q_scales = scales;
  a.y = nullptr;
  a.rows = 0;
  CHECK(qrt::cuda::launch_layer_norm(a, nullptr).is_ok());  // nothing to do
  // Without a device a valid launch fails with a device error, never a crash. (With one, these
  // host pointers would be the caller's contract violation, as with cuBLAS: not launched here.)
  if (!qrt::cuda::device_available())
    CHECK(qrt::cuda::launch_layer_norm(good, nullptr).code() == StatusCode::kDeviceError);
}

// ---------------------------------------------------------------------------------------------------
// Numerics on the GPU.

TEST_CASE("LayerNorm f32 / f16 in and out, with and without gamma/beta, matches the reference") {
  QRT_REQUIRE_GPU();
  uint64_t seed = 3300;
  for (const int64_t rows : {1, 3, 64}) {
    for (const int64_t cols : {1, 7, 256, 4099}) {
      for (const DType in : {DType::kF32, DType::kF16}) {
        for (const DType out : {DType::kF32, DType::kF16}) {
          const bool affine = (rows + cols) % 2 == 0 || cols == 1;
          run_case({rows, cols, in, out, affine, std::nullopt, true, false}, ++seed);
        }
      }
    }
  }
}

TEST_CASE("LayerNorm fused with each activation and with int8 quantization") {
  QRT_REQUIRE_GPU();
  uint64_t seed = 3600;
  for (const ActivationKind kind :
       {ActivationKind::kRelu, ActivationKind::kLeakyRelu, ActivationKind::kGeluErf,
        ActivationKind::kGeluTanh, ActivationKind::kSilu, ActivationKind::kSigmoid,
        ActivationKind::kTanh}) {
    run_case({5, 256, DType::kF32, DType::kF32, true, kind, true, false}, ++seed);
    run_case({3, 97, DType::kF16, DType::kF16, true, kind, true, true}, ++seed);
  }
  // Quantized output only (feeding the int8 GEMM), with and without an activation.
  for (const int64_t cols : {1, 7, 256, 4099}) {
    run_case({7, cols, DType::kF32, DType::kF32, true, std::nullopt, false, true}, ++seed);
    run_case({2, cols, DType::kF16, DType::kF32, false, ActivationKind::kGeluTanh, false, true},
             ++seed);
  }
}

}  // namespace
