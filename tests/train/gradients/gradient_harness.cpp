#include "tests/train/gradients/gradient_harness.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "tests/support/random.h"

namespace qrt::testing {

namespace {

// Central-difference step: with float64 forwards of values of order 1 the rounding error of
// (L(x+h) - L(x-h)) / 2h is ~1e-16/h ≈ 1e-10 and the truncation error ~h² ≈ 1e-12, both far
// below the tolerance.
constexpr double kStep = 1e-6;
// A numerical gradient whose largest entry is below this is treated as "trivially zero" for an
// input that should receive gradient: the test would pass for the wrong reason.
constexpr double kMinGradientScale = 1e-3;
// Accumulation check: (prefill + g) - prefill against g in f32; the subtraction loses up to one
// ulp of the prefill (|prefill| < 1) plus one of g.
constexpr float kAccumulateTolerance = 1e-6f;

double loss(const std::vector<Tensor64>& outputs, const std::vector<std::vector<float>>& dys) {
  double l = 0.0;
  for (std::size_t o = 0; o < outputs.size(); ++o)
    for (std::size_t i = 0; i < dys[o].size(); ++i) l += dys[o][i] * outputs[o].data[i];
  return l;
}

}  // namespace

std::pair<ir::Shape, std::vector<float>> random_input(ir::Shape shape, uint64_t seed, float lo,
                                                      float hi) {
  const std::size_t n = static_cast<std::size_t>(ir::numel(shape));
  return {std::move(shape), random_floats(n, seed, lo, hi)};
}

ir::Graph one_node_graph(ir::OpKind op, ir::Attrs attrs, const std::vector<bool>& present,
                         std::size_t n_outputs) {
  ir::Graph g;
  ir::Node node;
  node.name = "node";
  node.op = op;
  node.attrs = std::move(attrs);
  for (std::size_t i = 0; i < present.size(); ++i) {
    if (!present[i]) {
      node.inputs.push_back(ir::kNoValue);
      continue;
    }
    node.inputs.push_back(static_cast<ir::ValueId>(g.values.size()));
    g.values.push_back(ir::Value{"in" + std::to_string(i), ir::DType::kF32, {}, {}, {}});
  }
  for (std::size_t o = 0; o < n_outputs; ++o) {
    node.outputs.push_back(static_cast<ir::ValueId>(g.values.size()));
    g.values.push_back(ir::Value{"out" + std::to_string(o), ir::DType::kF32, {}, {}, {}});
  }
  g.nodes.push_back(std::move(node));
  return g;
}

void check_gradients(const GradientCase& c) {
  INFO("op " << std::string(ir::op_name(c.op)) << ", seed " << c.seed);
  const std::size_t n_in = c.inputs.size();
  std::vector<bool> present(n_in);
  Inputs64 inputs64(n_in);
  for (std::size_t i = 0; i < n_in; ++i) {
    present[i] = c.inputs[i].has_value();
    if (present[i])
      inputs64[i] = Tensor64{c.inputs[i]->first, std::vector<double>(c.inputs[i]->second.begin(),
                                                                     c.inputs[i]->second.end())};
  }
  const std::vector<Tensor64> outputs64 = c.forward(inputs64);
  const std::size_t n_out = outputs64.size();
  const ir::Graph graph = one_node_graph(c.op, c.attrs, present, n_out);

  std::vector<std::vector<float>> outputs(n_out), dys(n_out);
  for (std::size_t o = 0; o < n_out; ++o) {
    outputs[o].assign(outputs64[o].data.begin(), outputs64[o].data.end());
    const bool absent = o < c.output_grad_absent.size() && c.output_grad_absent[o];
    dys[o] = absent ? std::vector<float>(outputs[o].size(), 0.0f)
                    : random_floats(outputs[o].size(), c.seed + 1000 + o);
  }

  // Runs backward into `grads` (one buffer per present input, prefilled by the caller).
  auto run = [&](std::vector<std::vector<float>>& grads) {
    std::vector<runtime::ConstTensorView> in_views(n_in), out_views(n_out), dy_views(n_out);
    std::vector<runtime::TensorView> grad_views(n_in);
    for (std::size_t i = 0; i < n_in; ++i) {
      if (!present[i]) continue;
      in_views[i] = {ir::DType::kF32, c.inputs[i]->first, c.inputs[i]->second.data()};
      grad_views[i] = {ir::DType::kF32, c.inputs[i]->first, grads[i].data()};
    }
    for (std::size_t o = 0; o < n_out; ++o) {
      out_views[o] = {ir::DType::kF32, outputs64[o].shape, outputs[o].data()};
      const bool absent = o < c.output_grad_absent.size() && c.output_grad_absent[o];
      dy_views[o] = {ir::DType::kF32, outputs64[o].shape, absent ? nullptr : dys[o].data()};
    }
    const Status s =
        train::backward({graph, graph.nodes[0], in_views, out_views, dy_views, grad_views});
    REQUIRE_MESSAGE(s.is_ok(), s.to_string());
  };

  std::vector<std::vector<float>> grads(n_in), prefill(n_in), accumulated(n_in);
  for (std::size_t i = 0; i < n_in; ++i) {
    if (!present[i]) continue;
    grads[i].assign(c.inputs[i]->second.size(), 0.0f);
    prefill[i] = random_floats(grads[i].size(), c.seed + 2000 + i);
    accumulated[i] = prefill[i];
  }
  run(grads);
  run(accumulated);

  for (std::size_t i = 0; i < n_in; ++i) {
    if (!present[i]) continue;
    INFO("input " << i << " shape " << ir::shape_to_string(c.inputs[i]->first));
    std::vector<double> numeric(grads[i].size());
    Inputs64 probe = inputs64;
    for (std::size_t e = 0; e < numeric.size(); ++e) {
      const double x0 = probe[i]->data[e];
      probe[i]->data[e] = x0 + kStep;
      const double plus = loss(c.forward(probe), dys);
      probe[i]->data[e] = x0 - kStep;
      const double minus = loss(c.forward(probe), dys);
      probe[i]->data[e] = x0;
      numeric[e] = (plus - minus) / (2.0 * kStep);
    }
    double scale = 0.0, err = 0.0;
    std::size_t worst = 0;
    for (std::size_t e = 0; e < numeric.size(); ++e) {
      scale = std::max(scale, std::fabs(numeric[e]));
      const double d = std::fabs(numeric[e] - grads[i][e]);
      if (!(d <= err)) {
        err = d;
        worst = e;
      }
    }
    if (numeric.empty()) continue;
    INFO("worst element " << worst << ": analytic " << grads[i][worst] << ", numerical "
                          << numeric[worst] << ", gradient scale " << scale);
    const bool zero_expected =
        std::find(c.zero_gradient_inputs.begin(), c.zero_gradient_inputs.end(), i) !=
        c.zero_gradient_inputs.end();
    if (zero_expected) {
      CHECK(scale <= kMinGradientScale * kFiniteDifferenceTolerance);
      CHECK(err <= kMinGradientScale * kFiniteDifferenceTolerance);
    } else {
      CHECK(scale > kMinGradientScale);
      CHECK(err <= kFiniteDifferenceTolerance * scale);
    }

    float acc_err = 0.0f;
    for (std::size_t e = 0; e < grads[i].size(); ++e)
      acc_err = std::max(acc_err, std::fabs((accumulated[i][e] - prefill[i][e]) - grads[i][e]));
    CHECK(acc_err <= kAccumulateTolerance * std::max(1.0f, static_cast<float>(scale)));
  }
}

}  // namespace qrt::testing
