// `train_forecaster`: trains the forecasting sample's model from scratch with qrt's own training
// engine (train/), no PyTorch: the graph of forecaster_graph.h with PyTorch's default
// initialisation, Adam and MSE on the ETTh1 protocol (train/ett_data.h) with train.py's defaults.
// Prints per-epoch train/val MSE and the final val/test MSE and MAE, and writes a model that
// `forecast --model OUT` runs. train.py stays the cross-check.
#include <chrono>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ir/serialize.h"
#include "ops/register.h"
#include "samples/forecasting/forecaster_graph.h"
#include "tools/fit_options.h"
#include "tools/option_reader.h"
#include "train/ett_data.h"
#include "train/fine_tune.h"

namespace qrt::samples {
namespace {

constexpr std::string_view kCommand = "train_forecaster";

struct TrainArgs {
  std::string data;
  std::string output;
  ForecasterShape shape;
  train::FineTuneOptions fit;
  bool help = false;
};

const char* usage() {
  return R"(usage: train_forecaster --data ETTh1.csv -o OUT.qrt [options]

Trains the forecasting sample's model (linear branch over time + LSTM branch, see README.md) from
scratch on the ETTh1 protocol with train.py's recipe: PyTorch's default initialisation, Adam, MSE,
shuffled batches. With more than one epoch the learning rate halves every epoch, training stops
after --patience epochs without a lower validation MSE, and the epoch with the lowest validation
MSE is kept. Prints train/val MSE per epoch and the final val and test MSE/MAE;
`forecast --model OUT.qrt` evaluates the result.

options:
  --data FILE.csv      the ETT data (required)
  -o, --output OUT     the trained model (required)
  --epochs N           passes over the training windows (default 1)
  --lr X               Adam learning rate of the first epoch (default 1e-3)
  --batch B            windows per step (default 64)
  --seed S             initialisation and shuffling seed (default 2021)
  --hidden H           LSTM and head width (default 128)
  --layers N           LSTM layers (default 2)
  --lookback L, --horizon H
                       input and output lengths (default 96, 96)
  --max-steps N        at most N steps per epoch (default all)
  --patience N         stop after N epochs in a row without a lower validation MSE; 0 runs every
                       epoch (default 2, as train.py)
  --no-progress        no progress bar (it is shown only on a terminal anyway)
)";
}

Result<TrainArgs> parse_args(std::span<const std::string> args) {
  using tools::parse_integer;
  static constexpr std::string_view kValued[] = {
      "--data",   "-o",       "--output",   "--epochs",  "--lr",        "--batch",   "--seed",
      "--hidden", "--layers", "--lookback", "--horizon", "--max-steps", "--patience"};
  static constexpr std::string_view kFlags[] = {"--no-progress"};
  QRT_ASSIGN_OR_RETURN(auto parsed, tools::parse_arguments(kCommand, args, kValued, kFlags));
  TrainArgs r;
  r.fit.progress = true;
  // train.py halves the rate after every epoch; with one epoch this is a constant rate.
  r.fit.schedule = train::ScheduleKind::kStep;
  r.fit.step_gamma = 0.5;
  r.fit.patience = 2;  // train.py's default
  for (const tools::ParsedArgument& a : parsed) {
    QRT_ASSIGN_OR_RETURN(const bool fit_option, tools::read_fit_option(kCommand, a, r.fit));
    if (fit_option) continue;
    if (a.positional) {
      return invalid_argument(std::string(kCommand) + ": unexpected argument '" + a.name + "'");
    } else if (a.name == "--help") {
      r.help = true;
    } else if (a.name == "--data") {
      r.data = a.value;
    } else if (a.name == "-o" || a.name == "--output") {
      r.output = a.value;
    } else if (a.name == "--hidden") {
      QRT_ASSIGN_OR_RETURN(r.shape.hidden, parse_integer(kCommand, a.name, a.value, 1));
    } else if (a.name == "--layers") {
      QRT_ASSIGN_OR_RETURN(r.shape.layers, parse_integer(kCommand, a.name, a.value, 1));
    } else if (a.name == "--lookback") {
      QRT_ASSIGN_OR_RETURN(r.shape.lookback, parse_integer(kCommand, a.name, a.value, 1));
    } else if (a.name == "--horizon") {
      QRT_ASSIGN_OR_RETURN(r.shape.horizon, parse_integer(kCommand, a.name, a.value, 1));
    }
  }
  if (r.help) return r;
  if (r.data.empty()) return invalid_argument(std::string(kCommand) + ": missing --data FILE.csv");
  if (r.output.empty()) return invalid_argument(std::string(kCommand) + ": missing -o OUT.qrt");
  return r;
}

Status train_forecaster(const TrainArgs& args) {
  QRT_ASSIGN_OR_RETURN(const train::EttSplits splits,
                       train::load_ett_splits(args.data, args.shape.lookback, args.shape.horizon));
  const train::WindowedSeries& train_set = splits.train;
  const train::WindowedSeries& val_set = splits.val;
  const train::WindowedSeries& test_set = splits.test;

  // train.py seeds both the initialisation and the shuffling with --seed.
  QRT_ASSIGN_OR_RETURN(const ir::Graph model, build_forecaster(args.shape, args.fit.seed));
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  QRT_ASSIGN_OR_RETURN(auto trainer, train::Trainer::create(model, registry));
  int64_t weights = 0;
  for (const train::Parameter& p : trainer->parameters()) weights += ir::numel(p.shape);
  std::printf("forecaster: hidden %lld, %lld LSTM layers, %zu trainable tensors, %lld weights\n",
              static_cast<long long>(args.shape.hidden), static_cast<long long>(args.shape.layers),
              trainer->parameters().size(), static_cast<long long>(weights));
  std::printf("windows: train %lld, val %lld, test %lld (L=%lld, H=%lld)\n",
              static_cast<long long>(train_set.window_count()),
              static_cast<long long>(val_set.window_count()),
              static_cast<long long>(test_set.window_count()),
              static_cast<long long>(args.shape.lookback),
              static_cast<long long>(args.shape.horizon));
  std::fflush(stdout);

  const auto on_epoch = [&](const train::EpochReport& r) {
    std::printf(
        "epoch %lld/%lld: train MSE %.6f, val MSE %.6f MAE %.6f, lr %.3g, %lld steps, "
        "%.1f s (%.0f ms/step)\n",
        static_cast<long long>(r.epoch + 1), static_cast<long long>(args.fit.epochs), r.train_loss,
        r.val.mse, r.val.mae, r.lr, static_cast<long long>(r.steps), r.seconds,
        1e3 * r.train_seconds / static_cast<double>(r.steps));
    std::fflush(stdout);
  };
  const auto start = std::chrono::steady_clock::now();
  QRT_ASSIGN_OR_RETURN(const auto epochs,
                       train::fine_tune(*trainer, train_set, &val_set, args.fit, on_epoch));
  if (static_cast<int64_t>(epochs.size()) < args.fit.epochs)
    std::printf("early stop: %lld epoch(s) in a row without a lower val MSE\n",
                static_cast<long long>(args.fit.patience));
  std::printf("training: %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());

  const std::pair<const char*, const train::WindowedSeries*> finals[] = {{"val", &val_set},
                                                                         {"test", &test_set}};
  for (const auto& [name, series] : finals) {
    QRT_ASSIGN_OR_RETURN(const auto errors, train::evaluate_windows(*trainer, *series, 256));
    std::printf("qrt fp32 %s: MSE %.9f MAE %.9f (%lld windows)\n", name, errors.mse, errors.mae,
                static_cast<long long>(errors.windows));
  }
  QRT_ASSIGN_OR_RETURN(ir::Graph trained, trainer->trained_graph());
  trained.metadata["source"] = "train_forecaster, " + std::to_string(epochs.size()) +
                               " epoch(s), seed " + std::to_string(args.fit.seed);
  QRT_RETURN_IF_ERROR(ir::save_model_file(trained, args.output));
  std::printf("wrote %s\n", args.output.c_str());
  return Status::ok();
}

}  // namespace
}  // namespace qrt::samples

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = qrt::samples::parse_args(args);
  if (!parsed.is_ok()) {
    std::fprintf(stderr, "%s\n", parsed.status().message().c_str());
    return 2;
  }
  if (parsed->help) {
    std::fputs(qrt::samples::usage(), stdout);
    return 0;
  }
  const qrt::Status status = qrt::samples::train_forecaster(*parsed);
  if (!status.is_ok()) {
    std::fprintf(stderr, "train_forecaster: %s\n", status.message().c_str());
    return 1;
  }
  return 0;
}
