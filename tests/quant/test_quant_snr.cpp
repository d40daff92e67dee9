// Accuracy of the primitives on N(0,1) 4096x4096 weights (figures from the quantization design
// notes, section 1): int8 symmetric per channel and per tensor, NF4 block 64 (~20.7 dB).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "ir/quant_error.h"
#include "ir/quantize.h"
#include "tests/support/random.h"

using namespace qrt;
using namespace qrt::ir;

namespace {

constexpr int64_t kDim = 4096;
constexpr uint64_t kSeed = 20231;
// Agreement in dB between a measured SNR and the uniform-rounding-noise model: the model is exact
// up to the O(1/K) effect of the absmax elements (rounded with no error) and sampling noise, both
// below 0.01 dB at 16.7M elements; a wrong scale or rounding rule moves the SNR by far more.
constexpr double kModelAgreementDb = 0.1;

double snr_of(const std::vector<float>& w, const std::vector<float>& back) {
  Result<QuantizationError> e = quantization_error(w, back);
  REQUIRE(e.is_ok());
  return e->snr_db;
}

}  // namespace

TEST_CASE("int8 symmetric SNR on N(0,1) 4096x4096") {
  MESSAGE("seed " << kSeed);
  const std::vector<float> w = testing::random_normal(kDim * kDim, kSeed);
  const FloatTensorView v{w, {kDim, kDim}};

  Result<Int8Weight> pc = quantize_weight_per_channel(v);
  REQUIRE(pc.is_ok());
  std::vector<float> back(w.size());
  for (size_t i = 0; i < w.size(); ++i)
    back[i] = pc->params.scales[i / kDim] * static_cast<float>(pc->codes[i]);
  const double per_channel = snr_of(w, back);

  QuantizeSpec spec;
  spec.bits = 8;
  spec.granularity = Granularity::kPerTensor;
  Result<QuantizedTensor> pt = quantize_symmetric(v, spec);
  REQUIRE(pt.is_ok());
  Result<std::vector<float>> pt_back = dequantize(*pt);
  REQUIRE(pt_back.is_ok());
  const double per_tensor = snr_of(w, *pt_back);

  // Independent prediction: rounding noise is uniform in ±s/2 (variance s²/12) for every element,
  // so SNR ≈ 10·log10(Σt² / Σ_slices numel(slice)·s²/12). The absmax of 4096 normals is ~3.8 and
  // of 16.7M normals ~5.4, which puts the two figures near 41.3 dB and 38 dB.
  double signal = 0;
  for (float x : w) signal += double(x) * x;
  double channel_noise = 0;
  for (float s : pc->params.scales) channel_noise += double(kDim) * s * s / 12.0;
  const double tensor_noise =
      double(kDim) * kDim * pt->params.scales[0] * pt->params.scales[0] / 12.0;
  const double predicted_channel = 10.0 * std::log10(signal / channel_noise);
  const double predicted_tensor = 10.0 * std::log10(signal / tensor_noise);
  MESSAGE("int8 per-channel SNR " << per_channel << " dB (uniform-noise model " << predicted_channel
                                  << "), per-tensor SNR " << per_tensor << " dB (model "
                                  << predicted_tensor << ")");
  CHECK(std::fabs(per_channel - predicted_channel) <= kModelAgreementDb);
  CHECK(std::fabs(per_tensor - predicted_tensor) <= kModelAgreementDb);
  CHECK(per_channel >= 40.5);
  CHECK(per_channel <= 42.5);
  CHECK(per_tensor >= 37.0);
  CHECK(per_tensor <= 39.5);
  CHECK(per_channel > per_tensor + 2.0);  // finer scales must buy accuracy
}

TEST_CASE("nf4 block 64 SNR on N(0,1) 4096x4096") {
  MESSAGE("seed " << kSeed);
  const std::vector<float> w = testing::random_normal(kDim * kDim, kSeed);
  const FloatTensorView v{w, {kDim, kDim}};
  for (bool double_quant : {false, true}) {
    Result<Nf4Weight> q = quantize_nf4(v, 64, double_quant);
    REQUIRE(q.is_ok());
    Result<std::vector<float>> back = dequantize_nf4(q->packed, v.shape, q->params);
    REQUIRE(back.is_ok());
    const double snr = snr_of(w, *back);
    MESSAGE("nf4 block 64 double_quant " << double_quant << " SNR " << snr << " dB");
    CHECK(snr >= 20.2);
    CHECK(snr <= 21.2);
  }
}
