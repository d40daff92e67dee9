// What the Session tests share: named f32 inputs, outputs as vectors, and the dynamic-batch graph
// u = relu(x) + x, v = tanh(u) + b with outputs {v, x} (x: a graph input that is also a graph
// output, copied out of the caller's buffer) and its direct computation, which the fake kernels
// match bit for bit.
#pragma once

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "runtime/session.h"
#include "tests/runtime/hand_graph.h"

namespace qrt::testing {

inline runtime::NamedTensor named(const std::string& name, const std::vector<float>& data,
                                  ir::Shape shape) {
  return {name, runtime::ConstTensorView{ir::DType::kF32, std::move(shape), data.data()}};
}

inline std::vector<float> to_vector(const runtime::Tensor& t) {
  auto s = t.span<float>();
  return {s.begin(), s.end()};
}

inline float relu(float x) {
  return x > 0.0f ? x : 0.0f;
}

inline std::shared_ptr<const ir::Graph> dynamic_graph() {
  HandGraph h;
  const auto x = h.input("x", {ir::kDynamicDim, 5});
  const auto b = h.input("b", {ir::kDynamicDim, 5});
  const auto r = h.node("relu", ir::OpKind::kRelu, {x});
  const auto u = h.node("add_x", ir::OpKind::kAdd, {r, x});
  const auto t = h.node("tanh", ir::OpKind::kTanh, {u});
  const auto v = h.node("add_b", ir::OpKind::kAdd, {t, b});
  h.output(v);
  h.output(x);
  return std::make_shared<const ir::Graph>(std::move(h.graph()));
}

inline std::vector<float> dynamic_reference(const std::vector<float>& x,
                                            const std::vector<float>& b) {
  std::vector<float> v(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) v[i] = std::tanh(relu(x[i]) + x[i]) + b[i];
  return v;
}

}  // namespace qrt::testing
