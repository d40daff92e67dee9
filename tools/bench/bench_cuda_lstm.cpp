// LSTM and LayerNorm GPU benchmark cases (bench_cuda_lstm.h).
//
// Timing (the device-work method): CUDA events around each launch on one stream, 10 warm-up runs,
// then the median of 50 timed runs. The LSTM's weights live in shared memory for the whole
// sequence, so one input set is representative (there is no cache effect to rotate away from).
// The anchor column is what gpu_anchor.py measured for cuDNN through PyTorch on an H100
// (performance.md); scripts/gpu-bench.sh re-measures it in the same job, and the ratio to report
// is against that same-run number.
//
// Floors, before any measurement (METHOD.md "two numbers"): the LSTM at B=1, T=96, H=256, L=2 does
// 2·96·(3·4·256·256) ≈ 151 MFLOP (int8: MOP) and moves ~1 MB of weights once; both are
// microseconds on an H100. What bounds it is the dependency chain: T + L - 1 = 97 super-steps,
// each one cluster barrier (~0.5-1.1 µs, performance.md) plus one warp's dot products, gate math
// and DSMEM stores (~0.3-0.6 µs). Prediction: 0.10-0.17 ms for int8 and fp16 alike, i.e. 3.5-5.5x
// the cuDNN FP16 0.56 ms at H=128; H=256 costs about the same per step (the rows are spread over
// the same 8 CTAs). A result far above that points at the barrier or at the per-step global load
// of layer 0's input projection, not at arithmetic.
#include "tools/bench/bench_cuda_lstm.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "cuda/device.h"
#include "cuda/device_buffer.h"
#include "cuda/layer_norm.cuh"
#include "cuda/lstm/lstm.cuh"
#include "ir/half.h"
#include "tools/bench/bench_cuda_timing.h"

namespace qrt::bench {

namespace {

constexpr TimingRuns kRuns{/*warmup=*/10, /*timed=*/50};

struct LstmCase {
  int64_t B, T, C, H, L;
  cuda::LstmPrecision precision;
  int cluster_size;       // 0 = auto
  double anchor_fp16_ms;  // cuDNN FP16 through PyTorch (performance.md), 0 = not measured there
};

constexpr int64_t kNf4Block = 64;

// Random weights in the stored forms: f16 bits ~ U(-1/√H, 1/√H), int8 codes with per-row scales
// giving the same range, and (where the block divides the row) NF4 codes with that absmax.
struct RandomWeights {
  std::vector<std::vector<uint16_t>> f16;
  std::vector<std::vector<int8_t>> i8;
  std::vector<std::vector<float>> scales, bias;
  std::vector<std::vector<uint8_t>> nf4;       // packed codes (C and H multiples of kNf4Block)
  std::vector<std::vector<float>> nf4_absmax;  // one per block
  std::vector<cuda::LstmLayerWeights> layers;
};

RandomWeights random_weights(const LstmCase& c, uint32_t seed) {
  std::mt19937 rng(seed);
  const float range = 1.0f / std::sqrt(static_cast<float>(c.H));
  std::uniform_real_distribution<float> weight(-range, range);
  std::uniform_int_distribution<int> code(-127, 127);
  RandomWeights w;
  for (int64_t l = 0; l < c.L; ++l) {
    for (int m = 0; m < 2; ++m) {
      const int64_t in = m == 0 && l == 0 ? c.C : c.H;
      const auto n = static_cast<std::size_t>(4 * c.H * in);
      std::vector<uint16_t> bits(n);
      std::vector<int8_t> codes(n);
      for (std::size_t i = 0; i < n; ++i) {
        bits[i] = ir::float_to_f16_bits(weight(rng));
        codes[i] = static_cast<int8_t>(code(rng));
      }
      w.f16.push_back(std::move(bits));
      w.i8.push_back(std::move(codes));
      w.scales.emplace_back(static_cast<std::size_t>(4 * c.H), range / 127.0f);
      if (in % kNf4Block == 0) {
        std::vector<uint8_t> packed(n / 2);
        for (uint8_t& byte : packed) byte = static_cast<uint8_t>(code(rng) & 0xFF);
        w.nf4.push_back(std::move(packed));
        w.nf4_absmax.emplace_back(n / kNf4Block, range);
      } else {
        w.nf4.emplace_back();
        w.nf4_absmax.emplace_back();
      }
      std::vector<float> b(static_cast<std::size_t>(4 * c.H));
      for (float& v : b) v = weight(rng);
      w.bias.push_back(std::move(b));
    }
  }
  for (int64_t l = 0; l < c.L; ++l) {
    const auto ih = static_cast<std::size_t>(2 * l), hh = ih + 1;
    cuda::LstmLayerWeights layer;
    layer.w_ih_f16 = w.f16[ih].data();
    layer.w_hh_f16 = w.f16[hh].data();
    layer.w_ih_i8 = w.i8[ih].data();
    layer.w_hh_i8 = w.i8[hh].data();
    layer.w_ih_scales = w.scales[ih].data();
    layer.w_hh_scales = w.scales[hh].data();
    layer.w_ih_nf4 = w.nf4[ih].empty() ? nullptr : w.nf4[ih].data();
    layer.w_hh_nf4 = w.nf4[hh].empty() ? nullptr : w.nf4[hh].data();
    layer.w_ih_absmax = w.nf4_absmax[ih].empty() ? nullptr : w.nf4_absmax[ih].data();
    layer.w_hh_absmax = w.nf4_absmax[hh].empty() ? nullptr : w.nf4_absmax[hh].data();
    layer.b_ih = w.bias[ih].data();
    layer.b_hh = w.bias[hh].data();
    w.layers.push_back(layer);
  }
  return w;
}

Result<cuda::DeviceBuffer> random_device_floats(std::size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> host(n);
  for (float& v : host) v = normal(rng);
  return to_device(host);
}

// One LSTM row: "shape precision cluster | qrt ms | anchor | ratio".
Status bench_lstm(const LstmCase& c, cudaStream_t stream, std::ostream& out) {
  const RandomWeights w = random_weights(c, 1234);
  cuda::LstmDesc desc{c.precision, c.C, c.H, c.L, {}, kNf4Block};
  QRT_ASSIGN_OR_RETURN(cuda::LstmPlan plan,
                       cuda::LstmPlan::prepare(desc, w.layers, {c.cluster_size, 0}));
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer x,
                       random_device_floats(static_cast<std::size_t>(c.B * c.T * c.C), 99));
  QRT_ASSIGN_OR_RETURN(
      cuda::DeviceBuffer y,
      cuda::DeviceBuffer::allocate(static_cast<std::size_t>(c.B * c.T * c.H) * sizeof(float)));
  QRT_ASSIGN_OR_RETURN(
      cuda::DeviceBuffer state,
      cuda::DeviceBuffer::allocate(static_cast<std::size_t>(2 * c.L * c.B * c.H) * sizeof(float)));
  const std::size_t ws_bytes = plan.workspace_bytes(c.B, c.T);
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer ws, cuda::DeviceBuffer::allocate(ws_bytes));
  cuda::LstmRunArgs args;
  args.batch = c.B;
  args.steps = c.T;
  args.x = x.as<float>();
  args.y = y.as<float>();
  args.h_n = state.as<float>();
  args.c_n = state.as<float>() + c.L * c.B * c.H;
  args.workspace = ws.data();
  args.workspace_bytes = ws_bytes;
  QRT_ASSIGN_OR_RETURN(const double ms, median_ms(stream, kRuns, [&](int) {
                         return cuda::launch_lstm(plan, args, stream);
                       }));
  char line[256];
  const std::string cluster =
      std::to_string(plan.shape().cluster_size) + (c.cluster_size == 0 ? " (auto)" : "");
  if (c.anchor_fp16_ms > 0) {
    std::snprintf(line, sizeof(line),
                  "LSTM B=%-3lld T=%lld C=%lld H=%-4lld L=%lld %-13s cluster %-9s %9.4f ms  "
                  "cuDNN fp16 %.3f ms (performance.md)  %.1fx\n",
                  static_cast<long long>(c.B), static_cast<long long>(c.T),
                  static_cast<long long>(c.C), static_cast<long long>(c.H),
                  static_cast<long long>(c.L), cuda::lstm_precision_name(c.precision),
                  cluster.c_str(), ms, c.anchor_fp16_ms, c.anchor_fp16_ms / ms);
  } else {
    std::snprintf(line, sizeof(line),
                  "LSTM B=%-3lld T=%lld C=%lld H=%-4lld L=%lld %-13s cluster %-9s %9.4f ms  "
                  "(anchor: same_shape_anchor.json)\n",
                  static_cast<long long>(c.B), static_cast<long long>(c.T),
                  static_cast<long long>(c.C), static_cast<long long>(c.H),
                  static_cast<long long>(c.L), cuda::lstm_precision_name(c.precision),
                  cluster.c_str(), ms);
  }
  out << line;
  return Status::ok();
}

struct LayerNormCase {
  int64_t rows, cols;
  ir::DType in, out;
  bool gelu, quantize;
};

Status bench_layer_norm(const LayerNormCase& c, cudaStream_t stream, std::ostream& out) {
  const auto n = static_cast<std::size_t>(c.rows * c.cols);
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer x, random_device_floats(n, 7));  // f16 reads half of it
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer gamma,
                       random_device_floats(static_cast<std::size_t>(c.cols), 8));
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer beta,
                       random_device_floats(static_cast<std::size_t>(c.cols), 9));
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer y, cuda::DeviceBuffer::allocate(n * sizeof(float)));
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer q, cuda::DeviceBuffer::allocate(n));
  QRT_ASSIGN_OR_RETURN(cuda::DeviceBuffer scales,
                       cuda::DeviceBuffer::allocate(static_cast<std::size_t>(c.rows) * 4));
  cuda::LayerNormArgs args;
  args.rows = c.rows;
  args.cols = c.cols;
  args.x_dtype = c.in;
  args.x = x.data();
  args.gamma = gamma.as<float>();
  args.beta = beta.as<float>();
  args.fuse_activation = c.gelu;
  args.activation = cuda::ActivationKind::kGeluTanh;
  args.y_dtype = c.out;
  args.y = c.quantize ? nullptr : y.data();
  args.q = c.quantize ? q.as<int8_t>() : nullptr;
  args.q_scales = c.quantize ? scales.as<float>() : nullptr;
  QRT_ASSIGN_OR_RETURN(const double ms, median_ms(stream, kRuns, [&](int) {
                         return cuda::launch_layer_norm(args, stream);
                       }));
  const double in_bytes = static_cast<double>(n) * (c.in == ir::DType::kF16 ? 2 : 4);
  const double out_bytes = c.quantize ? static_cast<double>(n)
                                      : static_cast<double>(n) * (c.out == ir::DType::kF16 ? 2 : 4);
  char line[256];
  std::snprintf(line, sizeof(line),
                "LayerNorm %6lld x %-5lld %s -> %-4s%-6s %9.4f ms  %7.1f GB/s (one read + one "
                "write)\n",
                static_cast<long long>(c.rows), static_cast<long long>(c.cols),
                ir::dtype_name(c.in), c.quantize ? "i8" : ir::dtype_name(c.out),
                c.gelu ? " +gelu" : "", ms, (in_bytes + out_bytes) / (ms * 1e6));
  out << line;
  return Status::ok();
}

}  // namespace

int run_lstm_layer_norm_benchmarks(std::ostream& out) {
  const Result<cuda::DeviceInfo> device = cuda::query_current_device();
  if (!device.is_ok()) {
    out << "LSTM / LayerNorm benchmarks: " << device.status().to_string() << "\n";
    return 2;
  }
  out << "device: " << device->summary() << "\n";
  out << "timing: CUDA events, " << kRuns.warmup << " warm-up runs, median of " << kRuns.timed
      << "\n";
  cudaStream_t stream = nullptr;
  if (cudaStreamCreate(&stream) != cudaSuccess) {
    out << "cudaStreamCreate failed\n";
    return 2;
  }
  int rc = 0;
  using P = cuda::LstmPrecision;
  // cuDNN FP16 anchor at B=1, T=96, C=7, H=128, L=2: 0.563 ms (performance.md); H=256 is the
  // target shape (int8 >= 5x cuDNN FP16); scripts/gpu-bench.sh times cuDNN at both H in the same
  // job (same_shape_anchor.json) and prints the ratios.
  std::vector<LstmCase> lstm_cases;
  for (const int64_t H : {128, 256}) {
    for (const P precision : {P::kFp16, P::kInt8Dynamic, P::kInt8Static}) {
      for (const int cluster : {0, 1, 2, 4, 8}) {
        lstm_cases.push_back({1, 96, 7, H, 2, precision, cluster, H == 128 ? 0.563 : 0.0});
      }
    }
    // NF4 needs the block to divide the input width: C = 64 (no cuDNN anchor at this shape).
    lstm_cases.push_back({1, 96, 64, H, 2, P::kNf4, 0, 0.0});
    lstm_cases.push_back({32, 96, 7, H, 2, P::kInt8Dynamic, 0, 0.0});
    lstm_cases.push_back({32, 96, 7, H, 2, P::kFp16, 0, 0.0});
  }
  for (const LstmCase& c : lstm_cases) {
    const Status s = bench_lstm(c, stream, out);
    if (!s.is_ok()) {
      // A cluster size that does not fit is expected (kUnsupported): say so and go on.
      out << "LSTM H=" << c.H << " " << cuda::lstm_precision_name(c.precision) << " cluster "
          << c.cluster_size << ": " << s.to_string() << "\n";
      if (s.code() != StatusCode::kUnsupported && s.code() != StatusCode::kInvalidArgument) rc = 1;
    }
  }
  const LayerNormCase ln_cases[] = {
      {1, 256, ir::DType::kF32, ir::DType::kF32, false, false},
      {32, 256, ir::DType::kF32, ir::DType::kF32, false, false},
      {8192, 4096, ir::DType::kF32, ir::DType::kF32, false, false},
      {8192, 4096, ir::DType::kF16, ir::DType::kF16, false, false},
      {8192, 4096, ir::DType::kF16, ir::DType::kF32, true, true},
  };
  for (const LayerNormCase& c : ln_cases) {
    const Status s = bench_layer_norm(c, stream, out);
    if (!s.is_ok()) {
      out << "LayerNorm " << c.rows << " x " << c.cols << ": " << s.to_string() << "\n";
      rc = 1;
    }
  }
  cudaStreamDestroy(stream);
  return rc;
}

}  // namespace qrt::bench
