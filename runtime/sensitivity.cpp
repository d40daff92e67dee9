#include "runtime/sensitivity.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>

namespace qrt::runtime {

namespace {

constexpr std::size_t kBarWidth = 30;

// A one-line bar on stderr, drawn only when enabled and stderr is a terminal (logs and pipes never
// see carriage returns).
class Progress {
 public:
  Progress(bool enabled, std::size_t total)
      : visible_(enabled && total > 0 && isatty(STDERR_FILENO) == 1), total_(total) {
    draw();
  }
  ~Progress() {
    if (visible_) std::fputc('\n', stderr);
  }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void advance() {
    if (done_ < total_) ++done_;
    draw();
  }
  // The search may stop before its worst case: the bar then jumps to the end.
  void finish() {
    done_ = total_;
    draw();
  }

 private:
  void draw() const {
    if (!visible_) return;
    const std::size_t filled = done_ * kBarWidth / total_;
    std::fprintf(stderr, "\rsensitivity [%s%s] %zu/%zu", std::string(filled, '#').c_str(),
                 std::string(kBarWidth - filled, ' ').c_str(), done_, total_);
    std::fflush(stderr);
  }
  bool visible_;
  std::size_t total_;
  std::size_t done_ = 0;
};

// Every output of every batch, flattened in order.
Result<std::vector<float>> run_all(std::shared_ptr<const ir::Graph> graph,
                                   const KernelRegistry& registry,
                                   const std::vector<std::vector<NamedTensor>>& batches) {
  QRT_ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                       Session::create(std::move(graph), registry));
  std::vector<float> all;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    Result<std::vector<Tensor>> outputs = session->run(batches[b]);
    if (!outputs.is_ok())
      return outputs.status().with_context("calibration batch " + std::to_string(b));
    for (std::size_t o = 0; o < outputs->size(); ++o) {
      const Tensor& t = (*outputs)[o];
      if (t.dtype() != ir::DType::kF32)
        return invalid_argument("calibration batch " + std::to_string(b) + ": output " +
                                std::to_string(o) + " is " + ir::dtype_name(t.dtype()) +
                                ", expected f32");
      const auto values = t.span<const float>();
      all.insert(all.end(), values.begin(), values.end());
    }
  }
  return all;
}

// Σ (q − r)² / Σ r², in double.
Result<double> relative_mse(const std::vector<float>& reference, const std::vector<float>& q,
                            const std::string& what) {
  if (q.size() != reference.size())
    return internal_error(what + ": " + std::to_string(q.size()) + " output values, the float " +
                          "model gives " + std::to_string(reference.size()));
  double err = 0.0, energy = 0.0;
  for (std::size_t i = 0; i < q.size(); ++i) {
    if (!std::isfinite(q[i]))
      return invalid_argument(what + ": output value " + std::to_string(i) + " is " +
                              std::to_string(q[i]));
    const double d = static_cast<double>(q[i]) - static_cast<double>(reference[i]);
    err += d * d;
    energy += static_cast<double>(reference[i]) * static_cast<double>(reference[i]);
  }
  return err / energy;
}

}  // namespace

Result<SensitivityResult> search_sensitive_layers(
    std::shared_ptr<const ir::Graph> float_graph, const KernelRegistry& registry,
    const std::vector<std::vector<NamedTensor>>& batches,
    const std::vector<std::string>& candidates, const QuantizeLayers& quantize,
    const SensitivityOptions& options) {
  const std::string context = "sensitivity search";
  if (!float_graph) return invalid_argument(context + ": no float graph");
  if (batches.empty())
    return invalid_argument(context +
                            ": no calibration batches (the search measures the model "
                            "output on calibration data)");
  for (std::size_t b = 0; b < batches.size(); ++b)
    if (batches[b].empty())
      return invalid_argument(context + ": calibration batch " + std::to_string(b) +
                              " holds no inputs");
  if (candidates.empty()) return invalid_argument(context + ": no candidate layers to quantize");
  if (!std::isfinite(options.target_error) || options.target_error < 0.0)
    return invalid_argument(context + ": target error " + std::to_string(options.target_error) +
                            " must be finite and >= 0");
  std::set<std::string> seen;
  for (const std::string& name : candidates) {
    if (float_graph->find_node(name) < 0)
      return invalid_argument(context + ": candidate '" + name + "' is not a node of the graph");
    if (!seen.insert(name).second)
      return invalid_argument(context + ": candidate '" + name + "' is listed twice");
  }
  if (!quantize) return invalid_argument(context + ": no quantize function");

  QRT_ASSIGN_OR_RETURN(const std::vector<float> reference, run_all(float_graph, registry, batches));
  double energy = 0.0;
  for (float v : reference) {
    if (!std::isfinite(v))
      return invalid_argument(context + ": the float model gives a non-finite output (" +
                              std::to_string(v) + ") on the calibration data");
    energy += static_cast<double>(v) * static_cast<double>(v);
  }
  if (!(energy > 0.0))
    return invalid_argument(context +
                            ": the float model's outputs on the calibration data are "
                            "all zero; the relative error is undefined");

  // The model-output error with exactly `quantized` quantized.
  auto measure = [&](const std::vector<std::string>& quantized,
                     const std::string& what) -> Result<double> {
    Result<ir::Graph> graph = quantize(quantized);
    if (!graph.is_ok()) return graph.status().with_context(context + ", " + what);
    auto shared = std::make_shared<const ir::Graph>(std::move(graph).value());
    Result<std::vector<float>> outputs = run_all(std::move(shared), registry, batches);
    if (!outputs.is_ok()) return outputs.status().with_context(context + ", " + what);
    return relative_mse(reference, *outputs, context + ", " + what);
  };

  Progress progress(options.progress, 2 * candidates.size() + 1);
  SensitivityResult result;
  result.target_error = options.target_error;
  for (const std::string& name : candidates) {
    QRT_ASSIGN_OR_RETURN(const double e, measure({name}, "layer '" + name + "' alone"));
    result.layers.push_back({name, e, 0, false});
    progress.advance();
  }
  std::vector<std::size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return result.layers[a].error > result.layers[b].error;
  });
  for (std::size_t r = 0; r < order.size(); ++r)
    result.layers[order[r]].rank = static_cast<int>(r + 1);

  std::vector<bool> kept(candidates.size(), false);
  auto quantized_now = [&] {
    std::vector<std::string> q;
    for (std::size_t i = 0; i < candidates.size(); ++i)
      if (!kept[i]) q.push_back(candidates[i]);
    return q;
  };
  QRT_ASSIGN_OR_RETURN(result.error_all_quantized,
                       measure(quantized_now(), "every candidate quantized"));
  progress.advance();
  double error = result.error_all_quantized;
  for (std::size_t r = 0; r < order.size() && error > options.target_error; ++r) {
    const std::size_t i = order[r];
    kept[i] = true;
    result.layers[i].keep = true;
    result.keep.push_back(candidates[i]);
    QRT_ASSIGN_OR_RETURN(error, measure(quantized_now(), "after keeping '" + candidates[i] + "'"));
    progress.advance();
  }
  result.final_error = error;
  result.target_met = error <= options.target_error;
  progress.finish();
  return result;
}

}  // namespace qrt::runtime
