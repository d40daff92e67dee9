// Forward and backward over an ir::Graph on the CPU.
//
// Design: the graph is cloned with its trainable parameters as graph inputs (trainable_graph.h) and
// ONE Session runs it on the ordinary CPU kernels, so training computes exactly what inference
// computes. The run's ValueObserver keeps a copy of every value a backward kernel reads; the nodes
// are then walked in reverse, calling train::backward (op_gradient.h) and accumulating dL/d(value)
// per value. Parameters live here as f32 vectors; graph_with_parameters writes them back.
//
// A Trainer is used by one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/status.h"
#include "runtime/kernel_registry.h"
#include "runtime/session.h"
#include "runtime/tensor.h"
#include "train/loss.h"
#include "train/parameter.h"

namespace qrt::train {

struct TrainerOptions {
  std::vector<std::string> freeze{};  // name patterns of weights kept constant ('*' wildcard)
  LossKind loss = LossKind::kMse;
  std::string output{};  // graph output the loss compares; empty: the graph's only output
};

class Trainer {
 public:
  // Picks the parameters, checks every node between a parameter and the loss has a backward
  // kernel (naming the first that has not) and creates the session. The registry must outlive
  // the call only.
  static Result<std::unique_ptr<Trainer>> create(const ir::Graph& graph,
                                                 const runtime::KernelRegistry& registry,
                                                 TrainerOptions options = {});
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Forward on `inputs` (the model's inputs, by name), the loss against `target` (the shape of the
  // loss output), then backward: every parameter's grad is overwritten with dL/d(parameter).
  // Returns the loss.
  Result<double> compute_gradients(const std::vector<runtime::NamedTensor>& inputs,
                                   const runtime::ConstTensorView& target);
  // Forward only, with the current parameter values: the graph outputs in order.
  Result<std::vector<runtime::Tensor>> predict(const std::vector<runtime::NamedTensor>& inputs);
  // Index of the loss output among the graph outputs.
  std::size_t loss_output_index() const;

  // The model as given to create (its parameters keep their initial values).
  const ir::Graph& model() const;
  std::vector<Parameter>& parameters();
  const std::vector<Parameter>& parameters() const;
  // The model as given, with the current parameter values (a checkpoint).
  Result<ir::Graph> trained_graph() const;

 private:
  struct Impl;
  explicit Trainer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace qrt::train
