// A trainable parameter: an f32 weight or bias of the graph, owned by the trainer while it trains,
// with the gradient of the loss for the current step.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "ir/shape.h"

namespace qrt::train {

struct Parameter {
  std::string name;  // the graph value's name ("fc1.weight")
  ir::Shape shape;
  std::vector<float> value;  // numel(shape) floats, row-major
  std::vector<float> grad;   // dL/d(value), same size
  // The optimizer clamps the value to at least this after each update: a learnable FakeQuant scale
  // must stay > 0 (PyTorch's _LearnableFakeQuantize clamps it to float epsilon the same way).
  float min_value = -std::numeric_limits<float>::infinity();
};

}  // namespace qrt::train
