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
// An activation applied to a Linear's output inside the same kernel (ir::passes::fuse_activations),
// so a backend can apply it in the GEMM epilogue instead of running a separate kernel (TFLite's
// fused_activation_function). Each means exactly the standalone op: kGeluErf is Gelu with
// tanh_approximation false, kGeluTanh with true.
// On-disk values (ir/schema/qrt.fbs, enum FusedActivation): append only.
enum class FusedActivation : uint8_t {
  kNone = 0,
  kRelu = 1,
  kGeluErf = 2,
  kGeluTanh = 3,
  kSilu = 4,
  kSigmoid = 5,
  kTanh = 6
};
inline constexpr int kNumFusedActivations = 7;
// "none", "relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh"; "invalid" out of range.
const char* fused_activation_name(FusedActivation activation);
struct LinearAttrs {
  FusedActivation activation = FusedActivation::kNone;  // y = act(x·Wᵀ + b)
  bool operator==(const LinearAttrs&) const = default;
};
// PyTorch nn.LSTM with batch_first=True, gate order i, f, g, o.
struct LstmAttrs {
  int64_t hidden_size = 0;
  int64_t num_layers = 1;
  // QAT (docs/quantization.md §8): the float LSTM quantizes and dequantizes what the int8-static
  // kernel quantizes with the fixed hidden-state scale 1/127 (clamp ±127): the copy of h_{t-1}
  // that feeds the recurrent projection (h0 at t = 0) and the layer-(l-1) hidden sequence that
  // feeds layer l's input projection. The carried state (h_t outputs, c_t) is not rounded, as in
  // the int8 kernel, so the QAT forward sees the codes the converted graph computes.
  bool hidden_fake_quant = false;
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
// How a FakeQuant node rounds (the quantization design notes, sections 1, 5 and 8).
// On-disk values (ir/schema/qrt.fbs, enum FakeQuantMode): append only.
enum class FakeQuantMode : uint8_t {
  // y = s·(clamp(round(x / s) + z, qmin, qmax) - z) with the scale / zero point INPUTS, so a
  // trainer can learn them. Symmetric: qmin = -qmax, qmax = 2^(bits-1) - 1, z = 0 (no zero point
  // input). Affine: [0, 2^bits - 1] when unsigned_range, else [-2^(bits-1), 2^(bits-1) - 1], the
  // zero point input (f32, rounded half to even and clamped to the range) required.
  kInteger = 0,
  // NF4 (QLoRA): absmax of each block of `block_size` consecutive elements of the last dim of x,
  // nearest codebook value; exactly ir::quantize_nf4 then ir::dequantize_nf4 (double quantization
  // of the absmax values when double_quant). No scale or zero point input.
  kNF4 = 1,
};
inline constexpr int kNumFakeQuantModes = 2;
struct FakeQuantAttrs {
  FakeQuantMode mode = FakeQuantMode::kInteger;
  int64_t bits = 8;  // kInteger: 2..8
  bool symmetric = true;
  bool unsigned_range = false;  // affine only
  // false: one scale (scale shape [1]); true: one scale per slice along `axis` (scale [C]).
  bool per_channel = false;
  int64_t axis = 0;  // per channel; negative counts from the end
  // Whether the trainer updates the scale (LSQ gradient, Esser et al. 2020); a fixed scale gets
  // no gradient.
  bool learnable_scale = false;
  int64_t block_size = 64;   // kNF4: power of two, 32..4096, divides the last dim of x
  bool double_quant = true;  // kNF4
  bool operator==(const FakeQuantAttrs&) const = default;
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
static_assert(kNumOpKinds == 17, "ops.def changed: update the schema, serializer and kernels");

// Unique attribute types in declaration order; a Node's attrs must hold the type ops.def names.
using Attrs =
    std::variant<NoAttrs, LinearAttrs, LstmAttrs, LayerNormAttrs, LeakyReluAttrs, GeluAttrs,
                 ReshapeAttrs, TransposeAttrs, SliceAttrs, ConcatAttrs, FakeQuantAttrs>;

const char* op_name(OpKind op);
std::optional<OpKind> op_from_name(std::string_view name);
bool is_valid_op(uint16_t raw);
// The default-constructed attribute struct ops.def names for `op`.
Attrs default_attrs(OpKind op);
// True when `attrs` holds the attribute type that ops.def names for `op`.
bool attrs_match_op(OpKind op, const Attrs& attrs);
// The fused activation that computes what the standalone op `op` with `attrs` computes: Relu,
// Gelu (erf or tanh per GeluAttrs), Silu, Sigmoid, Tanh; nullopt for any other op (LeakyRelu has
// no fused form) or attributes of the wrong type.
std::optional<FusedActivation> fused_activation_of(OpKind op, const Attrs& attrs);

// The integer code range [qmin, qmax] of a kInteger FakeQuant (bits must be 2..8): symmetric
// [-(2^(b-1) - 1), 2^(b-1) - 1]; affine [0, 2^b - 1] (unsigned_range) or [-2^(b-1), 2^(b-1) - 1].
struct FakeQuantRange {
  int32_t qmin = 0;
  int32_t qmax = 0;
};
FakeQuantRange fake_quant_range(const FakeQuantAttrs& attrs);
// The integer zero point a kInteger FakeQuant uses for its stored f32 zero point: rounded half to
// even and clamped to [qmin, qmax] (the integer the static int8 graph stores). NaN gives qmin.
int32_t fake_quant_zero_point(float zero_point, FakeQuantRange range);

}  // namespace qrt::ir
