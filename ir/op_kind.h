// OpKind: the enum generated from ir/ops.def, and per-op attribute structs.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

namespace qrt::ir {

struct NoAttrs {
  bool operator==(const NoAttrs&) const = default;
};
struct LinearAttrs {
  bool operator==(const LinearAttrs&) const = default;
};
// PyTorch nn.LSTM with batch_first=True, gate order i, f, g, o.
struct LstmAttrs {
  int64_t hidden_size = 0;
  int64_t num_layers = 1;
  bool operator==(const LstmAttrs&) const = default;
};
// Normalizes over the last dimension: y = (x - mean) / sqrt(var + eps) * gamma + beta.
struct LayerNormAttrs {
  float eps = 1e-5f;
  bool operator==(const LayerNormAttrs&) const = default;
};
struct LeakyReluAttrs {
  float negative_slope = 0.01f;
  bool operator==(const LeakyReluAttrs&) const = default;
};
// approximate == false: x·Φ(x) with erf; true: PyTorch's approximate="tanh".
struct GeluAttrs {
  bool tanh_approximation = false;
  bool operator==(const GeluAttrs&) const = default;
};
// Target shape; 0 copies the input dimension at that position, one -1 is inferred (ONNX rules),
// so a batch-agnostic `x.reshape(x.shape[0], -1)` becomes {0, -1}.
struct ReshapeAttrs {
  std::vector<int64_t> shape;
  bool operator==(const ReshapeAttrs&) const = default;
};
// Output dim i is input dim perm[i].
struct TransposeAttrs {
  std::vector<int64_t> perm;
  bool operator==(const TransposeAttrs&) const = default;
};
// Python slicing x[start:end:step] along one axis (negative indices count from the end,
// out-of-range bounds are clamped, step > 0). squeeze=true removes the axis and requires exactly
// one element: that is x[:, i], "take one time step".
struct SliceAttrs {
  int64_t axis = 0;
  int64_t start = 0;
  int64_t end = INT64_MAX;
  int64_t step = 1;
  bool squeeze = false;
  bool operator==(const SliceAttrs&) const = default;
};
struct ConcatAttrs {
  int64_t axis = 0;
  bool operator==(const ConcatAttrs&) const = default;
};

enum class OpKind : uint16_t {
#define QRT_OP(e, name, attrs) k##e,
#include "ir/ops.def"
#undef QRT_OP
};

inline constexpr int kNumOpKinds = 0
#define QRT_OP(e, name, attrs) +1
#include "ir/ops.def"
#undef QRT_OP
    ;
static_assert(kNumOpKinds == 16, "ops.def changed: update the schema, serializer and kernels");

// Unique attribute types in declaration order; a Node's attrs must hold the type ops.def names.
using Attrs = std::variant<NoAttrs, LinearAttrs, LstmAttrs, LayerNormAttrs, LeakyReluAttrs,
                           GeluAttrs, ReshapeAttrs, TransposeAttrs, SliceAttrs, ConcatAttrs>;

const char* op_name(OpKind op);
std::optional<OpKind> op_from_name(std::string_view name);
bool is_valid_op(uint16_t raw);
// The default-constructed attribute struct ops.def names for `op`.
Attrs default_attrs(OpKind op);
// True when `attrs` holds the attribute type that ops.def names for `op`.
bool attrs_match_op(OpKind op, const Attrs& attrs);

}  // namespace qrt::ir
