// Quantization-aware fine-tuning as one step (design notes, quantization §8): from a trained float
// forecaster, FakeQuant is inserted (int8: weights and activations, the activations' initial ranges
// from a calibration run on evenly spaced training windows; NF4: weights only, block 64 by default,
// layers whose weight rows the block does not divide kept in fp16 as quantize_nf4 keeps them), the
// QAT graph is fine-tuned with fine_tune (best validation epoch restored), and the result is
// converted to the deployable static int8 or NF4 graph.
#pragma once

#include <functional>
#include <vector>

#include "ir/graph.h"
#include "ir/passes/passes.h"
#include "ir/status.h"
#include "runtime/kernel_registry.h"
#include "train/calibration_windows.h"
#include "train/ett_data.h"
#include "train/fine_tune.h"
#include "train/trainer.h"

namespace qrt::train {

struct QatOptions {
  FineTuneOptions fit{};
  TrainerOptions trainer{};          // frozen weights, loss
  CalibrationWindows calibration{};  // kInt8: the windows that set the initial activation ranges
  int64_t nf4_block_size = 64;       // kNF4, as ir::passes::Nf4Options::block_size
};

struct QatResult {
  ir::Graph qat_graph;  // the trained fake-quant graph (float kernels), before conversion
  ir::Graph deployed;   // convert_qat of qat_graph
  std::vector<EpochReport> epochs;
};

// The untrained QAT graph of `fp32` (FakeQuant inserted as described above).
Result<ir::Graph> make_qat_graph(const ir::Graph& fp32, ir::passes::QatMode mode,
                                 const WindowedSeries& train,
                                 const runtime::KernelRegistry& registry,
                                 const QatOptions& options = {});

// fine_tune of `trainer`, made on a make_qat_graph graph, on `train` (validated on `val` when
// given; `on_epoch` sees each epoch's report), then convert_qat of its trained graph. The part of
// quantization_aware_fine_tune after the Trainer is made, for callers that use the trainer
// themselves before and after training (`qrt finetune --qat` reports on it).
Result<QatResult> fine_tune_qat(Trainer& trainer, const WindowedSeries& train,
                                const WindowedSeries* val, const FineTuneOptions& fit,
                                const std::function<void(const EpochReport&)>& on_epoch = {});

// make_qat_graph, a Trainer on it (options.trainer) and fine_tune_qat with options.fit. The
// registry must outlive the call only.
Result<QatResult> quantization_aware_fine_tune(
    const ir::Graph& fp32, ir::passes::QatMode mode, const WindowedSeries& train,
    const WindowedSeries* val, const runtime::KernelRegistry& registry,
    const QatOptions& options = {}, const std::function<void(const EpochReport&)>& on_epoch = {});

}  // namespace qrt::train
