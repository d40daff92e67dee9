#include "ir/op_kind.h"

#include <algorithm>
#include <cmath>

namespace qrt::ir {

namespace {
constexpr const char* kOpNames[] = {
#define QRT_OP(e, name, attrs) name,
#include "ir/ops.def"
#undef QRT_OP
};
static_assert(sizeof(kOpNames) / sizeof(kOpNames[0]) == kNumOpKinds);
}  // namespace

const char* fused_activation_name(FusedActivation activation) {
  static constexpr const char* kNames[] = {"none", "relu",    "gelu", "gelu_tanh",
                                           "silu", "sigmoid", "tanh"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == kNumFusedActivations);
  const auto i = static_cast<int>(activation);
  return i < kNumFusedActivations ? kNames[i] : "invalid";
}

const char* op_name(OpKind op) {
  const auto i = static_cast<int>(op);
  return i < kNumOpKinds ? kOpNames[i] : "invalid";
}

std::optional<OpKind> op_from_name(std::string_view name) {
  for (int i = 0; i < kNumOpKinds; ++i)
    if (name == kOpNames[i]) return static_cast<OpKind>(i);
  return std::nullopt;
}

bool is_valid_op(uint16_t raw) {
  return raw < kNumOpKinds;
}

Attrs default_attrs(OpKind op) {
  switch (op) {
#define QRT_OP(e, name, attrs) \
  case OpKind::k##e:           \
    return attrs{};
#include "ir/ops.def"
#undef QRT_OP
  }
  return NoAttrs{};
}

bool attrs_match_op(OpKind op, const Attrs& attrs) {
  return default_attrs(op).index() == attrs.index();
}

std::optional<FusedActivation> fused_activation_of(OpKind op, const Attrs& attrs) {
  if (!attrs_match_op(op, attrs)) return std::nullopt;
  switch (op) {
    case OpKind::kRelu:
      return FusedActivation::kRelu;
    case OpKind::kGelu:
      return std::get<GeluAttrs>(attrs).tanh_approximation ? FusedActivation::kGeluTanh
                                                           : FusedActivation::kGeluErf;
    case OpKind::kSilu:
      return FusedActivation::kSilu;
    case OpKind::kSigmoid:
      return FusedActivation::kSigmoid;
    case OpKind::kTanh:
      return FusedActivation::kTanh;
    default:
      return std::nullopt;
  }
}

FakeQuantRange fake_quant_range(const FakeQuantAttrs& attrs) {
  const int bits = static_cast<int>(attrs.bits);
  if (attrs.symmetric) return {-((1 << (bits - 1)) - 1), (1 << (bits - 1)) - 1};
  if (attrs.unsigned_range) return {0, (1 << bits) - 1};
  return {-(1 << (bits - 1)), (1 << (bits - 1)) - 1};
}

int32_t fake_quant_zero_point(float zero_point, FakeQuantRange range) {
  if (std::isnan(zero_point)) return range.qmin;
  const float z = std::clamp(std::nearbyint(zero_point), static_cast<float>(range.qmin),
                             static_cast<float>(range.qmax));
  return static_cast<int32_t>(z);
}

}  // namespace qrt::ir
