// GraphBuilder: builds an ir::Graph in C++ (tests, samples, passes).
//
//   GraphBuilder b;
//   auto x = b.input("x", {ir::kDynamicDim, 96, 7});
//   auto w = b.constant("fc.weight", {16, 7}, weights);  // copied, 64-byte aligned
//   auto y = b.linear("fc", x, w);                        // output value named "fc"
//   b.output(y, "y");
//   Result<ir::Graph> g = b.build();                      // shapes inferred, then ir::verify
//
// Methods never fail on the spot: the first error (bad value id, duplicate name, size mismatch, out
// of memory) is remembered and returned by build(), so a chain of calls needs no checks in between.
// A node's single output value is named like the node; LSTM outputs are `name`, `name.h_n`,
// `name.c_n`. Intermediate shapes and dtypes are filled by inference in build().
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ir/graph.h"

namespace qrt::frontends {

class GraphBuilder {
 public:
  ir::ValueId input(const std::string& name, ir::Shape shape, ir::DType dtype = ir::DType::kF32);
  // f32 constant, data copied (64-byte aligned); data.size() must equal the shape's element count.
  ir::ValueId constant(const std::string& name, ir::Shape shape, std::span<const float> data);
  // Any dtype, bytes given as ConstantData (may borrow), optional quantization parameters.
  ir::ValueId constant_raw(const std::string& name, ir::DType dtype, ir::Shape shape,
                           ir::ConstantData data, std::optional<ir::QuantParams> quant = {});

  ir::ValueId linear(const std::string& name, ir::ValueId x, ir::ValueId weight,
                     ir::ValueId bias = ir::kNoValue);
  struct LstmLayer {
    ir::ValueId w_ih, w_hh, b_ih = ir::kNoValue, b_hh = ir::kNoValue;
  };
  struct LstmOutputs {
    ir::ValueId y, h_n, c_n;
  };
  LstmOutputs lstm(const std::string& name, ir::ValueId x, int64_t hidden_size,
                   const std::vector<LstmLayer>& layers, ir::ValueId h0 = ir::kNoValue,
                   ir::ValueId c0 = ir::kNoValue);
  ir::ValueId layer_norm(const std::string& name, ir::ValueId x, ir::ValueId gamma = ir::kNoValue,
                         ir::ValueId beta = ir::kNoValue, float eps = 1e-5f);
  // Relu, Silu, Sigmoid, Tanh.
  ir::ValueId unary(const std::string& name, ir::OpKind op, ir::ValueId x);
  ir::ValueId leaky_relu(const std::string& name, ir::ValueId x, float negative_slope = 0.01f);
  ir::ValueId gelu(const std::string& name, ir::ValueId x, bool tanh_approximation = false);
  // Add, Sub, Mul.
  ir::ValueId binary(const std::string& name, ir::OpKind op, ir::ValueId a, ir::ValueId b);
  ir::ValueId reshape(const std::string& name, ir::ValueId x, std::vector<int64_t> shape);
  ir::ValueId transpose(const std::string& name, ir::ValueId x, std::vector<int64_t> perm);
  ir::ValueId slice(const std::string& name, ir::ValueId x, int64_t axis, int64_t start,
                    int64_t end, int64_t step = 1, bool squeeze = false);
  ir::ValueId concat(const std::string& name, const std::vector<ir::ValueId>& xs, int64_t axis);

  // Marks `v` a graph output; a non-empty `name` renames the value.
  void output(ir::ValueId v, const std::string& name = "");
  void set_metadata(const std::string& key, const std::string& value);

  // Infers the shapes of all values (stored in the graph), then ir::verify. Errors from earlier
  // calls (bad ids, duplicate names, out of memory) are reported here, the first one named.
  // The builder is left as it was, so build() may be called again after more calls.
  Result<ir::Graph> build();

 private:
  void fail(Status status);
  ir::ValueId add_value(const std::string& name, ir::DType dtype, ir::Shape shape);
  // Appends a node with `num_outputs` fresh output values (named by `output_names`) and returns the
  // id of the first one.
  ir::ValueId add_node(const std::string& name, ir::OpKind op, ir::Attrs attrs,
                       std::vector<ir::ValueId> inputs,
                       const std::vector<std::string>& output_names);
  ir::ValueId add_single_output_node(const std::string& name, ir::OpKind op, ir::Attrs attrs,
                                     std::vector<ir::ValueId> inputs);
  // Records an error unless `id` is a value of the graph (or kNoValue when `optional`).
  void check_input(const std::string& node, ir::OpKind op, ir::ValueId id, const std::string& what,
                   bool optional);

  ir::Graph graph_;
  Status first_error_;
  std::unordered_map<std::string, ir::ValueId> value_names_;
  std::unordered_set<std::string> node_names_;
};

}  // namespace qrt::frontends
