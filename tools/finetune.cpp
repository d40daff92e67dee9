// `qrt finetune`: trains a forecasting model on an ETT CSV file with the ETTh1 protocol (splits,
// train-set normalisation, stride-1 windows; train/ett_data.h), in float or quantization-aware
// (--qat: the QAT graph of train/qat.h, trained, then converted to the deployable static-int8 or
// NF4 graph). Prints train/val loss per epoch and the final test MSE/MAE, and writes the trained
// model.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ir/passes/passes.h"
#include "ir/serialize.h"
#include "ops/register.h"
#include "tools/cli.h"
#include "tools/fit_options.h"
#include "tools/option_reader.h"
#include "train/ett_data.h"
#include "train/fine_tune.h"
#include "train/initialize.h"
#include "train/qat.h"
#include "train/window_loader.h"

namespace qrt::tools {

namespace {

constexpr std::string_view kCommand = "finetune";

struct FinetuneArgs {
  std::string model;
  std::string data;
  std::string output;
  std::string qat;  // "", int8 or nf4
  int64_t lookback = 96;
  int64_t horizon = 96;
  int64_t calib_windows = 256;
  std::optional<uint64_t> init_seed;  // train from scratch
  std::vector<std::string> freeze;
  train::LossKind loss = train::LossKind::kMse;
  train::FineTuneOptions fit;
  bool help = false;
};

const char* finetune_usage() {
  return R"(usage: qrt finetune MODEL --data FILE.csv -o OUT [options]

Fine-tunes a forecasting model (input [B, L, 7], output [B, H, 7]) on an ETT CSV file with the ETTh1
protocol: train rows [0, 8640), val [8640-L, 11520), test [11520-L, 14400), z-scored with the
train split's statistics. Prints the train/val loss per epoch and the final test MSE/MAE, keeps
the parameters of the epoch with the lowest val MSE and writes them to OUT.

options:
  --data FILE.csv           the ETT data (required)
  -o, --output OUT          the trained model (with --qat: the converted, deployable model)
  --epochs N                passes over the training windows (default 1)
  --lr X                    Adam learning rate (default 1e-3)
  --batch B                 windows per step (default 64)
  --seed S                  shuffling seed; the same seed gives the same model (default 2021)
  --lookback L, --horizon H the model's input and output lengths (default 96, 96)
  --loss mse|mae            training loss (default mse)
  --optimizer adam|adamw    (default adam)
  --weight-decay W          Adam: L2 penalty; AdamW: decoupled decay (default 0; adamw 0.01)
  --schedule constant|cosine|step
                            learning-rate schedule over all steps; step halves it every epoch
                            (default constant)
  --warmup N                linear warmup steps (default 0)
  --clip C                  clip gradients to global L2 norm C (default off)
  --freeze LIST             comma list of weight-name patterns kept constant ('*' wildcard)
  --max-steps N             at most N steps per epoch (default all)
  --patience N              stop after N epochs in a row without a lower val MSE; 0 runs every
                            epoch (default 0)
  --qat int8|nf4            quantization-aware fine-tuning, then conversion
  --calib-windows N         --qat int8: training windows, evenly spaced over the split, that
                            calibrate the initial activation ranges (default 256)
  --init-seed S             train from scratch: first re-initialise every trainable weight as
                            PyTorch does by default (Linear/LSTM uniform, LayerNorm 1 and 0)
  --no-progress             no progress bar (it is shown only on a terminal anyway)
)";
}

Result<std::vector<std::string>> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty())
      return invalid_argument("finetune: --freeze has an empty item in '" + text + "'");
    items.push_back(std::move(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

Result<FinetuneArgs> parse_finetune_args(std::span<const std::string> args) {
  static constexpr std::string_view kValued[] = {
      "--data",          "-o",          "--output",  "--epochs", "--lr",        "--batch",
      "--seed",          "--lookback",  "--horizon", "--loss",   "--optimizer", "--weight-decay",
      "--schedule",      "--warmup",    "--clip",    "--freeze", "--max-steps", "--qat",
      "--calib-windows", "--init-seed", "--patience"};
  static constexpr std::string_view kFlags[] = {"--no-progress"};
  QRT_ASSIGN_OR_RETURN(auto parsed, parse_arguments(kCommand, args, kValued, kFlags));
  FinetuneArgs r;
  r.fit.progress = true;
  std::string optimizer = "adam";
  bool decay_given = false;
  for (const ParsedArgument& a : parsed) {
    QRT_ASSIGN_OR_RETURN(const bool fit_option, read_fit_option(kCommand, a, r.fit));
    if (fit_option) continue;
    if (a.positional) {
      if (!r.model.empty())
        return invalid_argument("finetune: expected one MODEL, got '" + r.model + "' and '" +
                                a.name + "'");
      r.model = a.name;
    } else if (a.name == "--help") {
      r.help = true;
    } else if (a.name == "--data") {
      r.data = a.value;
    } else if (a.name == "-o" || a.name == "--output") {
      r.output = a.value;
    } else if (a.name == "--lookback") {
      QRT_ASSIGN_OR_RETURN(r.lookback, parse_integer(kCommand, a.name, a.value, 1));
    } else if (a.name == "--horizon") {
      QRT_ASSIGN_OR_RETURN(r.horizon, parse_integer(kCommand, a.name, a.value, 1));
    } else if (a.name == "--loss") {
      QRT_ASSIGN_OR_RETURN(r.loss, train::loss_from_name(a.value));
    } else if (a.name == "--optimizer") {
      if (a.value != "adam" && a.value != "adamw")
        return invalid_argument("finetune: --optimizer expects adam or adamw, got '" + a.value +
                                "'");
      optimizer = a.value;
    } else if (a.name == "--weight-decay") {
      QRT_ASSIGN_OR_RETURN(const float wd, parse_float(kCommand, a.name, a.value, 0.0f));
      r.fit.adam.weight_decay = wd;
      decay_given = true;
    } else if (a.name == "--schedule") {
      QRT_ASSIGN_OR_RETURN(r.fit.schedule, train::schedule_from_name(a.value));
    } else if (a.name == "--warmup") {
      QRT_ASSIGN_OR_RETURN(r.fit.warmup_steps, parse_integer(kCommand, a.name, a.value, 0));
    } else if (a.name == "--clip") {
      QRT_ASSIGN_OR_RETURN(const float clip, parse_float(kCommand, a.name, a.value, 0.0f));
      r.fit.clip_norm = clip;
    } else if (a.name == "--freeze") {
      QRT_ASSIGN_OR_RETURN(r.freeze, split_list(a.value));
    } else if (a.name == "--qat") {
      if (a.value != "int8" && a.value != "nf4")
        return invalid_argument("finetune: --qat expects int8 or nf4, got '" + a.value + "'");
      r.qat = a.value;
    } else if (a.name == "--calib-windows") {
      QRT_ASSIGN_OR_RETURN(r.calib_windows, parse_integer(kCommand, a.name, a.value, 1));
    } else if (a.name == "--init-seed") {
      QRT_ASSIGN_OR_RETURN(const int64_t seed, parse_integer(kCommand, a.name, a.value, 0));
      r.init_seed = static_cast<uint64_t>(seed);
    }
  }
  if (r.help) return r;
  if (r.model.empty()) return invalid_argument("finetune: missing MODEL (see qrt finetune --help)");
  if (r.data.empty()) return invalid_argument("finetune: missing --data FILE.csv");
  if (r.output.empty()) return invalid_argument("finetune: missing -o OUT");
  if (r.init_seed && !r.qat.empty())
    return invalid_argument(
        "finetune: --init-seed trains from scratch; --qat fine-tunes a trained "
        "model (train first, then run --qat on the result)");
  if (optimizer == "adamw") {
    r.fit.adam.decoupled_weight_decay = true;
    if (!decay_given) r.fit.adam.weight_decay = 0.01;  // torch.optim.AdamW's default
  }
  // The step schedule halves the rate every epoch, as samples/forecasting/train.py does.
  r.fit.step_gamma = 0.5;
  return r;
}

// The model must map [B, L, 7] to [B, H, 7] with the lengths given on the command line.
Status check_model_shapes(const ir::Graph& graph, int64_t lookback, int64_t horizon) {
  if (graph.inputs.size() != 1 || graph.outputs.size() != 1)
    return invalid_argument(
        "finetune: the model must have one input [B, L, 7] and one output "
        "[B, H, 7]; it has " +
        std::to_string(graph.inputs.size()) + " inputs and " +
        std::to_string(graph.outputs.size()) + " outputs");
  auto types = ir::infer_shapes(graph, {ir::Shape{1, lookback, train::kEttChannels}});
  if (!types.is_ok())
    return invalid_argument("finetune: the model does not take input [B, " +
                            std::to_string(lookback) + ", 7] (--lookback " +
                            std::to_string(lookback) + "): " + types.status().message());
  const ir::Shape& out = (*types)[static_cast<std::size_t>(graph.outputs[0])].shape;
  const ir::Shape expected{1, horizon, train::kEttChannels};
  if (out != expected)
    return invalid_argument("finetune: the model's output for one window is " +
                            ir::shape_to_string(out) + ", expected " +
                            ir::shape_to_string(expected) + " (--horizon " +
                            std::to_string(horizon) + ")");
  return Status::ok();
}

Result<train::ForecastErrors> evaluate_graph(const ir::Graph& graph,
                                             const train::WindowedSeries& series,
                                             const runtime::KernelRegistry& registry) {
  QRT_ASSIGN_OR_RETURN(
      auto session, runtime::Session::create(std::make_shared<const ir::Graph>(graph), registry));
  QRT_ASSIGN_OR_RETURN(train::WindowLoader loader,
                       train::WindowLoader::make(series, 256, false, 0));
  loader.start_epoch();
  const std::string input = graph.values[static_cast<std::size_t>(graph.inputs[0])].name;
  runtime::Tensor x, y;
  double se = 0.0, ae = 0.0;
  int64_t n = 0;
  for (int64_t b = 0; b < loader.batch_count(); ++b) {
    QRT_RETURN_IF_ERROR(loader.load(b, x, y));
    QRT_ASSIGN_OR_RETURN(auto out, session->run({{input, x.view()}}));
    const auto p = out[0].span<const float>();
    const auto t = y.span<const float>();
    for (std::size_t i = 0; i < t.size(); ++i) {
      const double d = static_cast<double>(p[i]) - t[i];
      se += d * d;
      ae += d < 0 ? -d : d;
    }
    n += static_cast<int64_t>(t.size());
  }
  return train::ForecastErrors{se / static_cast<double>(n), ae / static_cast<double>(n),
                               series.window_count()};
}

Status finetune(const FinetuneArgs& args) {
  QRT_ASSIGN_OR_RETURN(ir::Graph model, ir::load_model_file(args.model));
  QRT_RETURN_IF_ERROR(check_model_shapes(model, args.lookback, args.horizon));
  QRT_ASSIGN_OR_RETURN(const train::EttSplits splits,
                       train::load_ett_splits(args.data, args.lookback, args.horizon));
  const train::WindowedSeries& train_set = splits.train;
  const train::WindowedSeries& val_set = splits.val;
  const train::WindowedSeries& test_set = splits.test;
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);

  ir::Graph to_train = model;
  if (!args.qat.empty()) {
    train::QatOptions qat;
    qat.calibration.windows = args.calib_windows;
    const auto mode = args.qat == "nf4" ? ir::passes::QatMode::kNF4 : ir::passes::QatMode::kInt8;
    QRT_ASSIGN_OR_RETURN(to_train, train::make_qat_graph(model, mode, train_set, registry, qat));
  }
  train::TrainerOptions trainer_options;
  trainer_options.freeze = args.freeze;
  trainer_options.loss = args.loss;
  QRT_ASSIGN_OR_RETURN(auto trainer, train::Trainer::create(to_train, registry, trainer_options));
  if (args.init_seed)
    QRT_RETURN_IF_ERROR(
        train::initialize_parameters(to_train, trainer->parameters(), *args.init_seed));
  int64_t weights = 0;
  for (const train::Parameter& p : trainer->parameters()) weights += ir::numel(p.shape);
  std::printf("model %s: %zu trainable tensors, %lld weights%s\n", args.model.c_str(),
              trainer->parameters().size(), static_cast<long long>(weights),
              args.qat.empty() ? "" : (" (QAT " + args.qat + ")").c_str());
  std::printf("windows: train %lld, val %lld, test %lld (L=%lld, H=%lld)\n",
              static_cast<long long>(train_set.window_count()),
              static_cast<long long>(val_set.window_count()),
              static_cast<long long>(test_set.window_count()),
              static_cast<long long>(args.lookback), static_cast<long long>(args.horizon));
  QRT_ASSIGN_OR_RETURN(const auto start, train::evaluate_windows(*trainer, val_set, 256));
  std::printf("before: val MSE %.6f MAE %.6f\n", start.mse, start.mae);
  std::fflush(stdout);

  const char* loss_label = args.loss == train::LossKind::kMse ? "MSE" : "MAE";
  const auto on_epoch = [&](const train::EpochReport& r) {
    std::printf(
        "epoch %lld/%lld: train %s %.6f, val MSE %.6f MAE %.6f, lr %.3g, %lld steps, "
        "%.1f s (%.0f ms/step)\n",
        static_cast<long long>(r.epoch + 1), static_cast<long long>(args.fit.epochs), loss_label,
        r.train_loss, r.val.mse, r.val.mae, r.lr, static_cast<long long>(r.steps), r.seconds,
        1e3 * r.train_seconds / static_cast<double>(r.steps));
    std::fflush(stdout);
  };
  std::vector<train::EpochReport> epochs;
  ir::Graph trained;  // what OUT gets: with --qat, the converted graph
  if (args.qat.empty()) {
    QRT_ASSIGN_OR_RETURN(epochs,
                         train::fine_tune(*trainer, train_set, &val_set, args.fit, on_epoch));
    QRT_ASSIGN_OR_RETURN(trained, trainer->trained_graph());
  } else {
    QRT_ASSIGN_OR_RETURN(train::QatResult qat,
                         train::fine_tune_qat(*trainer, train_set, &val_set, args.fit, on_epoch));
    epochs = std::move(qat.epochs);
    trained = std::move(qat.deployed);
  }
  if (static_cast<int64_t>(epochs.size()) < args.fit.epochs)
    std::printf("early stop: %lld epoch(s) in a row without a lower val MSE\n",
                static_cast<long long>(args.fit.patience));

  trained.metadata["finetune"] = "qrt finetune, " + std::to_string(epochs.size()) +
                                 " epoch(s), seed " + std::to_string(args.fit.seed) +
                                 (args.qat.empty() ? "" : ", qat " + args.qat);
  QRT_ASSIGN_OR_RETURN(const auto test, train::evaluate_windows(*trainer, test_set, 256));
  if (args.qat.empty()) {
    std::printf("test: MSE %.6f MAE %.6f (%lld windows)\n", test.mse, test.mae,
                static_cast<long long>(test.windows));
  } else {
    std::printf("test (QAT graph): MSE %.6f MAE %.6f (%lld windows)\n", test.mse, test.mae,
                static_cast<long long>(test.windows));
    QRT_ASSIGN_OR_RETURN(const auto deployed, evaluate_graph(trained, test_set, registry));
    std::printf("test (converted %s): MSE %.6f MAE %.6f\n",
                args.qat == "int8" ? "int8-static" : "nf4", deployed.mse, deployed.mae);
  }
  QRT_RETURN_IF_ERROR(ir::save_model_file(trained, args.output));
  std::printf("wrote %s\n", args.output.c_str());
  return Status::ok();
}

}  // namespace

int finetune_command(std::span<const std::string> args) {
  auto parsed = parse_finetune_args(args);
  if (!parsed.is_ok()) return report_error(parsed.status(), kExitUsage);
  if (parsed->help) {
    std::fputs(finetune_usage(), stdout);
    return kExitOk;
  }
  const Status status = finetune(*parsed);
  if (!status.is_ok()) return report_error(status);
  return kExitOk;
}

}  // namespace qrt::tools
