// The smallest qrt program: load a model (memory-mapped, weights used in place), run it once on a
// window of 1s, print the first output values. The README's C++ example is this file.
//   minimal samples/forecasting/forecaster.qrt
#include <cstdio>
#include <memory>
#include <vector>

#include "ir/serialize.h"
#include "ops/register.h"
#include "runtime/session.h"

int main(int argc, char** argv) {
  if (argc != 2) return std::fprintf(stderr, "usage: minimal MODEL.qrt\n"), 2;
  auto graph = qrt::ir::load_model_file(argv[1]);
  if (!graph) return std::fprintf(stderr, "%s\n", graph.status().to_string().c_str()), 1;
  qrt::runtime::KernelRegistry kernels;
  qrt::ops::register_cpu_kernels(kernels);
  auto session = qrt::runtime::Session::create(
      std::make_shared<const qrt::ir::Graph>(std::move(graph).value()), kernels);
  if (!session) return std::fprintf(stderr, "%s\n", session.status().to_string().c_str()), 1;

  // The first graph input, with a dynamic batch dimension set to 1.
  const qrt::ir::Graph& g = (*session)->graph();
  qrt::ir::Shape shape = g.values[g.inputs[0]].shape;
  for (int64_t& d : shape) d = d < 0 ? 1 : d;
  std::vector<float> window(qrt::ir::numel(shape), 1.0f);
  auto outputs = (*session)->run(
      {{(*session)->input_names()[0], {qrt::ir::DType::kF32, shape, window.data()}}});
  if (!outputs) return std::fprintf(stderr, "%s\n", outputs.status().to_string().c_str()), 1;

  const auto y = (*outputs)[0].span<const float>();
  std::printf("%s: %s, first values", (*session)->output_names()[0].c_str(),
              qrt::ir::shape_to_string((*outputs)[0].shape()).c_str());
  for (std::size_t i = 0; i < y.size() && i < 4; ++i) std::printf(" %.4f", y[i]);
  std::printf("\n");
  return 0;
}
