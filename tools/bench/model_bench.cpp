#include "tools/bench/model_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <random>

#include "ir/passes/passes.h"
#include "ir/serialize.h"
#include "ops/register.h"
#include "runtime/session.h"

namespace qrt::bench {
namespace {

constexpr uint64_t kInputSeed = 7;

struct Variant {
  std::string name;
  std::shared_ptr<const ir::Graph> graph;
  std::size_t bytes = 0;
};

Result<Variant> make_variant(std::string name, ir::Graph graph) {
  QRT_ASSIGN_OR_RETURN(std::vector<std::byte> bytes, ir::serialize_model(graph));
  return Variant{std::move(name), std::make_shared<const ir::Graph>(std::move(graph)),
                 bytes.size()};
}

// fp32 as loaded, then quantize_dynamic (default LLM.int8() threshold, as `qrt quantize`) with
// every weighted layer converted, then with the default policy (first and last kept in fp16).
Result<std::vector<Variant>> make_variants(const ir::Graph& fp32) {
  std::vector<Variant> variants;
  QRT_ASSIGN_OR_RETURN(Variant base, make_variant("fp32", fp32));
  variants.push_back(std::move(base));

  ir::passes::DynamicOptions keep_none;
  keep_none.policy.keep_first = false;
  keep_none.policy.keep_last = false;
  auto none = ir::passes::quantize_dynamic(fp32, keep_none);
  if (!none.is_ok()) return none.status().with_context("quantize_dynamic --keep none");
  QRT_ASSIGN_OR_RETURN(Variant v_none,
                       make_variant("int8-dynamic keep none", std::move(none).value()));
  variants.push_back(std::move(v_none));

  auto first_last = ir::passes::quantize_dynamic(fp32, ir::passes::DynamicOptions{});
  if (!first_last.is_ok())
    return first_last.status().with_context("quantize_dynamic --keep first,last");
  QRT_ASSIGN_OR_RETURN(Variant v_first_last,
                       make_variant("int8-dynamic keep first,last", std::move(first_last).value()));
  variants.push_back(std::move(v_first_last));
  return variants;
}

Result<runtime::Tensor> random_input(const ir::Value& input, int64_t batch) {
  ir::Shape shape = input.shape;
  if (shape.empty()) return invalid_argument("input '" + input.name + "' is a scalar; no batch");
  shape[0] = batch;
  for (std::size_t d = 1; d < shape.size(); ++d)
    if (shape[d] < 0)
      return invalid_argument("input '" + input.name + "' has a dynamic dimension " +
                              std::to_string(d) + " besides the batch; cannot pick a shape");
  QRT_ASSIGN_OR_RETURN(runtime::Tensor t, runtime::Tensor::allocate(ir::DType::kF32, shape));
  std::mt19937_64 rng(kInputSeed + static_cast<uint64_t>(batch));
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (float& x : t.span<float>()) x = dist(rng);
  return t;
}

double relative_error(const runtime::Tensor& y, const runtime::Tensor& reference) {
  const auto a = y.span<const float>();
  const auto b = reference.span<const float>();
  double num = 0.0, den = 0.0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    const double d = double{a[i]} - double{b[i]};
    num += d * d;
    den += double{b[i]} * double{b[i]};
  }
  return den > 0.0 ? std::sqrt(num / den) : 0.0;
}

}  // namespace

Result<std::vector<ModelBenchRow>> bench_model(const ModelBenchOptions& options) {
  if (options.repetitions < 1) return invalid_argument("model repetitions must be >= 1");
  auto loaded = ir::load_model_file(options.model_path);
  if (!loaded.is_ok()) return loaded.status().with_context("--model " + options.model_path);
  const ir::Graph fp32 = std::move(loaded).value();
  if (fp32.inputs.size() != 1 || fp32.outputs.empty())
    return invalid_argument("--model " + options.model_path +
                            ": expected one input and at least one output, got " +
                            std::to_string(fp32.inputs.size()) + " inputs");
  const ir::Value& input = fp32.values[static_cast<std::size_t>(fp32.inputs[0])];
  QRT_ASSIGN_OR_RETURN(std::vector<Variant> variants, make_variants(fp32));

  runtime::KernelRegistry registry;
  ops::register_cpu_kernels(registry);
  std::vector<ModelBenchRow> rows;
  for (const int64_t batch : options.batches) {
    QRT_ASSIGN_OR_RETURN(runtime::Tensor x, random_input(input, batch));
    const std::vector<runtime::NamedTensor> feed = {{input.name, x.view()}};
    runtime::Tensor reference;
    for (const Variant& variant : variants) {
      auto session = runtime::Session::create(variant.graph, registry);
      if (!session.is_ok()) return session.status().with_context(variant.name);
      runtime::Tensor y;
      for (int w = 0; w < options.warmups; ++w) {
        auto out = (*session)->run(feed);
        if (!out.is_ok()) return out.status().with_context(variant.name);
        y = std::move((*out)[0]);
      }
      std::vector<double> ms;
      for (int r = 0; r < options.repetitions; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        auto out = (*session)->run(feed);
        const auto t1 = std::chrono::steady_clock::now();
        if (!out.is_ok()) return out.status().with_context(variant.name);
        ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        if (r == 0) y = std::move((*out)[0]);
      }
      std::sort(ms.begin(), ms.end());
      if (variant.name == "fp32") reference = std::move(y);
      const double error = variant.name == "fp32" ? 0.0 : relative_error(y, reference);
      rows.push_back({variant.name, batch, ms[ms.size() / 2], error, variant.bytes});
    }
  }
  return rows;
}

}  // namespace qrt::bench
