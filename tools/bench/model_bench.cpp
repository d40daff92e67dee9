#include "tools/bench/model_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <sstream>

#include "ir/passes/passes.h"
#include "ir/serialize.h"
#include "ops/register.h"
#include "runtime/calibration.h"
#include "runtime/session.h"
#include "tools/backend.h"

namespace qrt::bench {
namespace {

constexpr uint64_t kInputSeed = 7;           // + batch: the timed input
constexpr uint64_t kCalibrationSeed = 1000;  // + i: the int8-static calibration inputs

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

// A quantized variant as deployed: the pass's graph with its activations fused into the Linears
// before them (ir::passes::fuse_activations, as `qrt quantize` does by default).
Result<Variant> pass_variant(std::string name, Result<ir::Graph> graph) {
  if (!graph.is_ok()) return graph.status().with_context(name);
  auto fused = ir::passes::fuse_activations(*graph);
  if (!fused.is_ok()) return fused.status().with_context(name + ": fusing activations");
  return make_variant(std::move(name), std::move(fused).value());
}

ir::passes::PrecisionPolicy convert_every_layer() {
  ir::passes::PrecisionPolicy policy;
  policy.keep_first = false;
  policy.keep_last = false;
  return policy;
}

// CPU: fp32 as loaded, then quantize_dynamic (default LLM.int8() threshold, as `qrt quantize`)
// with every weighted layer converted, then with the default policy (first and last kept in fp16).
Result<std::vector<Variant>> make_cpu_variants(const ir::Graph& fp32) {
  namespace passes = ir::passes;
  std::vector<Variant> variants;
  QRT_ASSIGN_OR_RETURN(Variant base, make_variant("fp32", fp32));
  variants.push_back(std::move(base));
  passes::DynamicOptions keep_none;
  keep_none.policy = convert_every_layer();
  QRT_ASSIGN_OR_RETURN(Variant none, pass_variant("int8-dynamic keep none",
                                                  passes::quantize_dynamic(fp32, keep_none)));
  variants.push_back(std::move(none));
  QRT_ASSIGN_OR_RETURN(Variant first_last, pass_variant("int8-dynamic keep first,last",
                                                        passes::quantize_dynamic(fp32)));
  variants.push_back(std::move(first_last));
  return variants;
}

// GPU: every precision with every weighted layer converted (fp16 is the baseline a PyTorch user
// would run), NF4 keeping the layers its 64-block does not divide (an LSTM over 7 channels), and
// the int8 rows again with the default first/last-in-fp16 policy.
Result<std::vector<Variant>> make_gpu_variants(const ir::Graph& fp32,
                                               const ir::CalibrationTable& ranges) {
  namespace passes = ir::passes;
  const passes::PrecisionPolicy every_layer = convert_every_layer();
  std::vector<Variant> variants;
  auto add = [&](std::string name, Result<ir::Graph> graph) -> Status {
    QRT_ASSIGN_OR_RETURN(Variant v, pass_variant(std::move(name), std::move(graph)));
    variants.push_back(std::move(v));
    return Status::ok();
  };
  QRT_RETURN_IF_ERROR(add("fp16", passes::downcast(fp32, ir::Precision::kFP16, every_layer)));
  QRT_RETURN_IF_ERROR(add("w8a16", passes::quantize_weights(fp32, every_layer)));
  passes::DynamicOptions dynamic;
  dynamic.policy = every_layer;
  QRT_RETURN_IF_ERROR(add("int8-dynamic", passes::quantize_dynamic(fp32, dynamic)));
  passes::StaticOptions static_int8;
  static_int8.policy = every_layer;
  QRT_RETURN_IF_ERROR(add("int8-static", passes::quantize_static(fp32, ranges, static_int8)));
  passes::Nf4Options nf4;
  nf4.policy = every_layer;
  nf4.policy.keep_patterns = passes::nodes_with_rows_not_divisible(fp32, nf4.block_size);
  QRT_RETURN_IF_ERROR(add("nf4", passes::quantize_nf4(fp32, nf4)));
  QRT_RETURN_IF_ERROR(add("int8-dynamic keep first,last", passes::quantize_dynamic(fp32)));
  QRT_RETURN_IF_ERROR(add("int8-static keep first,last", passes::quantize_static(fp32, ranges)));
  return variants;
}

Result<runtime::Tensor> random_input(const ir::Value& input, int64_t batch, uint64_t seed) {
  ir::Shape shape = input.shape;
  if (shape.empty()) return invalid_argument("input '" + input.name + "' is a scalar; no batch");
  shape[0] = batch;
  for (std::size_t d = 1; d < shape.size(); ++d)
    if (shape[d] < 0)
      return invalid_argument("input '" + input.name + "' has a dynamic dimension " +
                              std::to_string(d) + " besides the batch; cannot pick a shape");
  QRT_ASSIGN_OR_RETURN(runtime::Tensor t, runtime::Tensor::allocate(ir::DType::kF32, shape));
  std::mt19937_64 rng(seed);
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

// "12/14 nodes on cuda, 4 copies" from Session::kernel_names ("node: cuda.linear.fp16",
// "value: copy cpu -> cuda").
std::string device_placement(const runtime::Session& session) {
  int nodes = 0, on_device = 0, copies = 0;
  for (const std::string& step : session.kernel_names()) {
    const std::string what = step.substr(step.find(": ") + 2);
    if (what.rfind("copy ", 0) == 0) {
      ++copies;
      continue;
    }
    ++nodes;
    on_device += what.rfind("cpu.", 0) == 0 ? 0 : 1;
  }
  return std::to_string(on_device) + "/" + std::to_string(nodes) + " nodes on the device, " +
         std::to_string(copies) + " copies";
}

// Runs `graph` on the CPU once per input and returns the observed ranges (min/max).
Result<ir::CalibrationTable> calibration_ranges(const ir::Graph& fp32, const ir::Value& input) {
  constexpr int kCalibrationInputs = 8;
  std::vector<runtime::Tensor> tensors;
  std::vector<std::vector<runtime::NamedTensor>> batches;
  for (int i = 0; i < kCalibrationInputs; ++i) {
    QRT_ASSIGN_OR_RETURN(runtime::Tensor x,
                         random_input(input, 1, kCalibrationSeed + static_cast<uint64_t>(i)));
    tensors.push_back(std::move(x));
  }
  for (const runtime::Tensor& x : tensors) batches.push_back({{input.name, x.view()}});
  runtime::KernelRegistry cpu;
  ops::register_cpu_kernels(cpu);
  runtime::CalibrationOptions options;
  options.progress = false;
  return runtime::calibrate(std::make_shared<const ir::Graph>(fp32), cpu, batches, options);
}

// Output 0 of one run of `graph` on the CPU: the fp32 reference of the relative errors.
Result<runtime::Tensor> cpu_reference(std::shared_ptr<const ir::Graph> graph,
                                      const std::vector<runtime::NamedTensor>& feed) {
  runtime::KernelRegistry cpu;
  ops::register_cpu_kernels(cpu);
  QRT_ASSIGN_OR_RETURN(auto session, runtime::Session::create(std::move(graph), cpu));
  QRT_ASSIGN_OR_RETURN(auto outputs, session->run(feed));
  return std::move(outputs[0]);
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
  const bool on_cpu = options.device == runtime::Device::kCpu;
  std::vector<Variant> variants;
  if (on_cpu) {
    QRT_ASSIGN_OR_RETURN(variants, make_cpu_variants(fp32));
  } else {
    QRT_ASSIGN_OR_RETURN(const ir::CalibrationTable ranges, calibration_ranges(fp32, input));
    QRT_ASSIGN_OR_RETURN(variants, make_gpu_variants(fp32, ranges));
  }
  const auto fp32_graph = std::make_shared<const ir::Graph>(fp32);

  runtime::KernelRegistry registry;
  QRT_RETURN_IF_ERROR(tools::register_backends(options.device, registry));
  runtime::SessionOptions session_options;
  session_options.device = options.device;
  std::vector<ModelBenchRow> rows;
  for (const int64_t batch : options.batches) {
    QRT_ASSIGN_OR_RETURN(runtime::Tensor x,
                         random_input(input, batch, kInputSeed + static_cast<uint64_t>(batch)));
    const std::vector<runtime::NamedTensor> feed = {{input.name, x.view()}};
    QRT_ASSIGN_OR_RETURN(const runtime::Tensor reference, cpu_reference(fp32_graph, feed));
    for (const Variant& variant : variants) {
      auto session = runtime::Session::create(variant.graph, registry, session_options);
      if (!session.is_ok()) return session.status().with_context(variant.name);
      runtime::Tensor y;
      for (int w = 0; w < options.warmups; ++w) {
        auto out = (*session)->run(feed);
        if (!out.is_ok()) return out.status().with_context(variant.name);
        y = std::move((*out)[0]);
      }
      std::vector<double> ms;
      bool replayed = true;
      for (int r = 0; r < options.repetitions; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        auto out = (*session)->run(feed);
        const auto t1 = std::chrono::steady_clock::now();
        if (!out.is_ok()) return out.status().with_context(variant.name);
        ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        replayed = replayed && (*session)->replayed_last_run();
        if (r == 0) y = std::move((*out)[0]);
      }
      std::sort(ms.begin(), ms.end());
      rows.push_back({variant.name, batch, ms[ms.size() / 2], relative_error(y, reference),
                      variant.bytes, device_placement(**session), replayed});
    }
  }
  return rows;
}

Result<std::vector<int64_t>> parse_batch_list(const std::string& text) {
  std::vector<int64_t> batches;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');) {
    char* end = nullptr;
    const long long batch = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || batch < 1)
      return invalid_argument("batch '" + item + "' in '" + text + "' is not an integer >= 1");
    batches.push_back(batch);
  }
  if (batches.empty()) return invalid_argument("no batch sizes in '" + text + "'");
  return batches;
}

}  // namespace qrt::bench
