// Backward of FakeQuant (ir/ops.def; the quantization design notes, section 8).
//
// kInteger, per element with v = x / s, t = round(v) + z (z the rounded, clamped zero point):
//   inside  (qmin <= t <= qmax): dy/dx = 1 (straight-through), dy/ds = round(v) - v, dy/dz = 0
//   outside (clipped):           dy/dx = 0,                    dy/ds = qmin - z or qmax - z,
//                                                              dy/dz = -s
// The scale and zero point gradients (only when attrs.learnable_scale) follow LSQ (Esser et al.
// 2020, "Learned Step Size Quantization") and LSQ+ for the zero point: the per-element terms are
// summed per channel (one sum per tensor when per tensor) and multiplied by
// g = 1 / sqrt(numel(x) · qmax), the gradient scale PyTorch's _LearnableFakeQuantize uses.
// kNF4: straight-through, dy/dx = 1 (the block absmax covers every element: nothing is clipped).
#pragma once

#include "train/op_gradient.h"

namespace qrt::train {

Status fake_quant_backward(const GradientArgs& args);

}  // namespace qrt::train
