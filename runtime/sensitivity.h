// Per-layer sensitivity search, the `auto` precision policy (docs/quantization.md §7): quantize one
// layer at a time, measure the model-output error against the float model on calibration inputs,
// then keep the most sensitive layers in a higher precision until the model with every other
// candidate quantized meets an error target.
//
// Error measure: relative MSE of the model outputs over all calibration batches and outputs,
//   e = Σ (y_q − y)² / Σ y²       (SQNR = −10·log10(e) dB; 1e-3 is 30 dB)
// a scale-free number, so one target suits models whose outputs have any magnitude.
//
// The runtime does not depend on ir/passes: the caller passes `QuantizeLayers`, which builds the
// graph with exactly the named layers quantized (tools/ wires it to a pass). Search, at most
// 2 + 2·(number of candidates) evaluations of the calibration batches:
//   1. e_l for each candidate l alone; rank by e_l, largest first (ties: node order).
//   2. Quantize every candidate; while e > target, keep the next most sensitive layer and
//      re-measure. When even keeping them all misses the target (the kept precision alone is too
//      coarse), the result says so (target_met false) and keeps them all.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/kernel_registry.h"
#include "runtime/session.h"

namespace qrt::runtime {

// The default model-output target: relative MSE 1e-3 (output SQNR 30 dB).
inline constexpr double kDefaultSensitivityTarget = 1e-3;

// The graph with exactly the layers named in `quantized` (node names, a subset of the candidates)
// quantized, every other candidate in the precision kept layers get (fp16, say), and the other
// weighted layers as the caller's policy has them.
using QuantizeLayers = std::function<Result<ir::Graph>(const std::vector<std::string>& quantized)>;

struct SensitivityOptions {
  double target_error = kDefaultSensitivityTarget;  // relative MSE, finite and >= 0
  bool progress = true;  // a progress bar on stderr, shown only when stderr is a terminal
};

struct LayerSensitivity {
  std::string node;
  double error = 0.0;  // model-output relative MSE with only this layer quantized
  int rank = 0;        // 1 = most sensitive
  bool keep = false;   // kept in the higher precision by the search
};

struct SensitivityResult {
  std::vector<LayerSensitivity> layers;  // one per candidate, in candidate order
  std::vector<std::string> keep;         // kept layers, most sensitive first
  double error_all_quantized = 0.0;      // every candidate quantized
  double final_error = 0.0;              // every candidate but `keep` quantized
  double target_error = 0.0;
  bool target_met = false;  // final_error <= target_error
};

// Runs the search. `float_graph` is the reference; `batches` are full sets of graph inputs, as
// Session::run takes them; `candidates` name the weighted nodes the caller would quantize. Fails,
// naming what is at fault, on: no batches, an empty batch list entry, no candidates, a candidate
// that is not a node, a bad target, a graph that does not build or run, a float output of only
// zeros (the relative error is undefined), or a non-finite output.
Result<SensitivityResult> search_sensitive_layers(
    std::shared_ptr<const ir::Graph> float_graph, const KernelRegistry& registry,
    const std::vector<std::vector<NamedTensor>>& batches,
    const std::vector<std::string>& candidates, const QuantizeLayers& quantize,
    const SensitivityOptions& options = {});

}  // namespace qrt::runtime
