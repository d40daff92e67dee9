#include "train/fine_tune.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "runtime/progress_bar.h"
#include "train/window_loader.h"

namespace qrt::train {

namespace {

Result<std::string> single_input_name(const ir::Graph& graph) {
  if (graph.inputs.size() != 1)
    return invalid_argument(
        "the forecasting loop expects a model with one input [B, L, 7], this "
        "one has " +
        std::to_string(graph.inputs.size()));
  return graph.values[static_cast<std::size_t>(graph.inputs[0])].name;
}

}  // namespace

Result<ForecastErrors> evaluate_windows(Trainer& trainer, const WindowedSeries& series,
                                        int64_t batch) {
  QRT_ASSIGN_OR_RETURN(const std::string input, single_input_name(trainer.model()));
  QRT_ASSIGN_OR_RETURN(WindowLoader loader, WindowLoader::make(series, batch, false, 0));
  loader.start_epoch();
  runtime::Tensor x, y;
  double se = 0.0, ae = 0.0;
  int64_t count = 0;
  for (int64_t b = 0; b < loader.batch_count(); ++b) {
    QRT_RETURN_IF_ERROR(loader.load(b, x, y));
    QRT_ASSIGN_OR_RETURN(std::vector<runtime::Tensor> out, trainer.predict({{input, x.view()}}));
    const runtime::Tensor& p = out[trainer.loss_output_index()];
    if (p.shape() != y.shape())
      return invalid_argument("the model's output has shape " + ir::shape_to_string(p.shape()) +
                              ", the windows' targets " + ir::shape_to_string(y.shape()) +
                              " (does the horizon match the model?)");
    const auto pd = p.span<float>();
    const auto yd = y.span<float>();
    for (std::size_t i = 0; i < yd.size(); ++i) {
      const double d = static_cast<double>(pd[i]) - yd[i];
      se += d * d;
      ae += std::fabs(d);
    }
    count += static_cast<int64_t>(yd.size());
  }
  return ForecastErrors{se / static_cast<double>(count), ae / static_cast<double>(count),
                        series.window_count()};
}

Result<std::vector<EpochReport>> fine_tune(
    Trainer& trainer, const WindowedSeries& train, const WindowedSeries* val,
    const FineTuneOptions& options, const std::function<void(const EpochReport&)>& on_epoch) {
  if (options.epochs < 1)
    return invalid_argument("epochs " + std::to_string(options.epochs) + " must be >= 1");
  if (options.eval_batch < 1) return invalid_argument("eval_batch must be >= 1");
  if (!(options.clip_norm >= 0.0) || !std::isfinite(options.clip_norm))
    return invalid_argument("clip norm must be finite and >= 0");
  if (options.patience < 0) return invalid_argument("patience must be >= 0");
  if (options.patience > 0 && val == nullptr)
    return invalid_argument("early stopping (patience " + std::to_string(options.patience) +
                            ") needs a validation set");
  QRT_RETURN_IF_ERROR(Adam::validate(options.adam));
  QRT_ASSIGN_OR_RETURN(const std::string input, single_input_name(trainer.model()));
  QRT_ASSIGN_OR_RETURN(WindowLoader loader,
                       WindowLoader::make(train, options.batch, true, options.seed));
  int64_t steps_per_epoch = loader.batch_count();
  if (options.max_steps_per_epoch > 0)
    steps_per_epoch = std::min(steps_per_epoch, options.max_steps_per_epoch);

  LrSchedule schedule;
  schedule.kind = options.schedule;
  schedule.lr = options.adam.lr;
  schedule.warmup_steps = options.warmup_steps;
  schedule.total_steps = steps_per_epoch * options.epochs;
  schedule.step_size = steps_per_epoch;
  schedule.gamma = options.step_gamma;
  QRT_RETURN_IF_ERROR(schedule.validate());

  Adam adam(options.adam);
  std::vector<EpochReport> reports;
  std::vector<std::vector<float>> best;
  double best_val = INFINITY;
  int64_t since_best = 0;  // consecutive epochs without a new best val MSE
  runtime::Tensor x, y;
  int64_t step = 0;
  for (int64_t epoch = 0; epoch < options.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    loader.start_epoch();
    EpochReport report;
    report.epoch = epoch;
    double loss_sum = 0.0;
    int64_t windows = 0;
    {
      runtime::ProgressBar bar(
          options.progress,
          "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(options.epochs),
          steps_per_epoch);
      for (int64_t b = 0; b < steps_per_epoch; ++b, ++step) {
        QRT_RETURN_IF_ERROR(loader.load(b, x, y));
        QRT_ASSIGN_OR_RETURN(const double loss,
                             trainer.compute_gradients({{input, x.view()}}, y.view()));
        if (options.clip_norm > 0.0)
          QRT_RETURN_IF_ERROR(clip_grad_norm(trainer.parameters(), options.clip_norm).status());
        report.lr = schedule.lr_at(step);
        adam.set_lr(report.lr);
        QRT_RETURN_IF_ERROR(adam.step(trainer.parameters()));
        const int64_t rows = x.shape()[0];
        loss_sum += loss * static_cast<double>(rows);
        windows += rows;
        char status[32];
        std::snprintf(status, sizeof status, "loss %.4f", loss_sum / static_cast<double>(windows));
        bar.advance(status);
      }
    }
    report.train_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report.steps = steps_per_epoch;
    report.train_loss = loss_sum / static_cast<double>(windows);
    if (val != nullptr) {
      QRT_ASSIGN_OR_RETURN(report.val, evaluate_windows(trainer, *val, options.eval_batch));
      report.has_val = true;
      if (report.val.mse < best_val) {
        best_val = report.val.mse;
        since_best = 0;
        if (options.restore_best) {
          best.clear();
          for (const Parameter& p : trainer.parameters()) best.push_back(p.value);
        }
      } else {
        ++since_best;
      }
    }
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    reports.push_back(report);
    if (on_epoch) on_epoch(report);
    if (options.patience > 0 && since_best >= options.patience) break;
  }
  if (!best.empty()) {
    auto& params = trainer.parameters();
    for (std::size_t i = 0; i < params.size(); ++i) params[i].value = std::move(best[i]);
  }
  return reports;
}

}  // namespace qrt::train
