#include "train/qat.h"

#include <utility>

#include "ir/passes/precision_policy.h"

namespace qrt::train {

Result<ir::Graph> make_qat_graph(const ir::Graph& fp32, ir::passes::QatMode mode,
                                 const WindowedSeries& train,
                                 const runtime::KernelRegistry& registry,
                                 const QatOptions& options) {
  ir::passes::QatOptions qat;
  qat.mode = mode;
  qat.nf4_block_size = options.nf4_block_size;
  ir::CalibrationTable table;
  if (mode == ir::passes::QatMode::kNF4) {
    qat.policy.keep_patterns = ir::passes::nodes_with_rows_not_divisible(fp32, qat.nf4_block_size);
  } else {
    QRT_ASSIGN_OR_RETURN(table, calibrate_on_windows(fp32, registry, train, options.calibration));
  }
  return ir::passes::insert_fake_quant(fp32, table, qat);
}

Result<QatResult> fine_tune_qat(Trainer& trainer, const WindowedSeries& train,
                                const WindowedSeries* val, const FineTuneOptions& fit,
                                const std::function<void(const EpochReport&)>& on_epoch) {
  QatResult result;
  QRT_ASSIGN_OR_RETURN(result.epochs, fine_tune(trainer, train, val, fit, on_epoch));
  QRT_ASSIGN_OR_RETURN(result.qat_graph, trainer.trained_graph());
  auto deployed = ir::passes::convert_qat(result.qat_graph);
  if (!deployed.is_ok()) return deployed.status().with_context("converting the trained QAT graph");
  result.deployed = std::move(deployed).value();
  return result;
}

Result<QatResult> quantization_aware_fine_tune(
    const ir::Graph& fp32, ir::passes::QatMode mode, const WindowedSeries& train,
    const WindowedSeries* val, const runtime::KernelRegistry& registry, const QatOptions& options,
    const std::function<void(const EpochReport&)>& on_epoch) {
  QRT_ASSIGN_OR_RETURN(ir::Graph qat_graph, make_qat_graph(fp32, mode, train, registry, options));
  QRT_ASSIGN_OR_RETURN(auto trainer, Trainer::create(qat_graph, registry, options.trainer));
  return fine_tune_qat(*trainer, train, val, options.fit, on_epoch);
}

}  // namespace qrt::train
