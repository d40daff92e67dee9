// Runs a few training steps of a .qrt model on one fixed batch, for the comparison with PyTorch in
// test_train_step_vs_pytorch.py:
//   train_step_tool MODEL X.npy Y.npy OUTDIR [--steps N] [--lr X] [--loss mse|mae]
//                   [--weight-decay W] [--adamw] [--clip C]
// writes OUTDIR/losses.txt (one loss per step), OUTDIR/grad.<parameter>.npy (the gradients of the
// first step, after clipping) and OUTDIR/trained.qrt (the parameters after the last step), and
// prints the mean time of steps 2..N on stderr (a rough measurement: use an idle machine).
#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <string>
#include <vector>

#include "ir/serialize.h"
#include "ops/register.h"
#include "tools/npy.h"
#include "train/optimizer.h"
#include "train/trainer.h"

namespace {

using namespace qrt;

int fail(const std::string& message) {
  std::fprintf(stderr, "train_step_tool: %s\n", message.c_str());
  return 1;
}

int run(const std::vector<std::string>& args) {
  if (args.size() < 4) return fail("usage: MODEL X.npy Y.npy OUTDIR [options]");
  int steps = 1;
  double clip = 0.0;
  train::AdamOptions adam;
  train::TrainerOptions options;
  for (std::size_t i = 4; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "--adamw") {
      adam.decoupled_weight_decay = true;
    } else if (a == "--steps" && has_value) {
      steps = std::stoi(args[++i]);
    } else if (a == "--lr" && has_value) {
      adam.lr = std::stod(args[++i]);
    } else if (a == "--weight-decay" && has_value) {
      adam.weight_decay = std::stod(args[++i]);
    } else if (a == "--clip" && has_value) {
      clip = std::stod(args[++i]);
    } else if (a == "--loss" && has_value) {
      auto loss = train::loss_from_name(args[++i]);
      if (!loss.is_ok()) return fail(loss.status().message());
      options.loss = *loss;
    } else {
      return fail("unknown option " + a);
    }
  }
  auto graph = ir::load_model_file(args[0]);
  if (!graph.is_ok()) return fail(graph.status().message());
  auto x = tools::read_npy(args[1]);
  auto y = tools::read_npy(args[2]);
  if (!x.is_ok() || !y.is_ok()) return fail("cannot read the batch");
  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  auto trainer = train::Trainer::create(*graph, registry, options);
  if (!trainer.is_ok()) return fail(trainer.status().message());
  const std::string input = graph->values[static_cast<std::size_t>(graph->inputs.at(0))].name;
  train::Adam optimizer(adam);
  const std::string dir = args[3];
  std::ofstream losses(dir + "/losses.txt");
  auto timer_start = std::chrono::steady_clock::now();
  for (int step = 0; step < steps; ++step) {
    if (step == 1) timer_start = std::chrono::steady_clock::now();  // step 0 plans the session
    auto loss = (*trainer)->compute_gradients({{input, x->view()}}, y->view());
    if (!loss.is_ok()) return fail(loss.status().message());
    if (clip > 0.0) {
      auto norm = train::clip_grad_norm((*trainer)->parameters(), clip);
      if (!norm.is_ok()) return fail(norm.status().message());
    }
    char line[64];
    std::snprintf(line, sizeof line, "%.9g\n", *loss);
    losses << line;
    if (step == 0) {
      for (const train::Parameter& p : (*trainer)->parameters()) {
        const Status s = tools::write_npy(dir + "/grad." + p.name + ".npy", p.shape, p.grad);
        if (!s.is_ok()) return fail(s.message());
      }
    }
    const Status s = optimizer.step((*trainer)->parameters());
    if (!s.is_ok()) return fail(s.message());
  }
  if (steps > 1) {
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - timer_start)
            .count();
    std::fprintf(stderr, "train_step_tool: %.1f ms per step (mean of steps 2..%d)\n",
                 ms / (steps - 1), steps);
  }
  auto trained = (*trainer)->trained_graph();
  if (!trained.is_ok()) return fail(trained.status().message());
  const Status saved = ir::save_model_file(*trained, dir + "/trained.qrt");
  if (!saved.is_ok()) return fail(saved.message());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {  // std::stoi on a malformed number
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    return fail(std::string("bad argument: ") + e.what());
  }
}
