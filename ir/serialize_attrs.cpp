// Per-op attributes: ir::Attrs (a std::variant) <-> the `Attrs` union of qrt.fbs.
#include <string>
#include <type_traits>

#include "ir/serialize_internal.h"

namespace qrt::ir::serialize_detail {

namespace {

// The union member for an attribute struct type; NONE for the empty structs.
template <typename A>
constexpr fb::Attrs union_type_of() {
  if constexpr (std::is_same_v<A, LstmAttrs>) return fb::Attrs::LstmAttrs;
  if constexpr (std::is_same_v<A, LayerNormAttrs>) return fb::Attrs::LayerNormAttrs;
  if constexpr (std::is_same_v<A, LeakyReluAttrs>) return fb::Attrs::LeakyReluAttrs;
  if constexpr (std::is_same_v<A, GeluAttrs>) return fb::Attrs::GeluAttrs;
  if constexpr (std::is_same_v<A, ReshapeAttrs>) return fb::Attrs::ReshapeAttrs;
  if constexpr (std::is_same_v<A, TransposeAttrs>) return fb::Attrs::TransposeAttrs;
  if constexpr (std::is_same_v<A, SliceAttrs>) return fb::Attrs::SliceAttrs;
  if constexpr (std::is_same_v<A, ConcatAttrs>) return fb::Attrs::ConcatAttrs;
  if constexpr (std::is_same_v<A, FakeQuantAttrs>) return fb::Attrs::FakeQuantAttrs;
  if constexpr (std::is_same_v<A, LinearAttrs>) return fb::Attrs::LinearAttrs;
  return fb::Attrs::NONE;  // NoAttrs
}

// The union member for the type `attrs` holds, whatever its values.
fb::Attrs union_type_of(const Attrs& attrs) {
  return std::visit([](const auto& a) { return union_type_of<std::decay_t<decltype(a)>>(); },
                    attrs);
}

// What the writer stores for `attrs`: a Linear without a fused activation stores nothing, so plain
// models stay as every writer before version 5 wrote them.
fb::Attrs stored_union_type(const Attrs& attrs) {
  if (const auto* linear = std::get_if<LinearAttrs>(&attrs);
      linear != nullptr && linear->activation == FusedActivation::kNone)
    return fb::Attrs::NONE;
  return union_type_of(attrs);
}

std::string union_type_name(fb::Attrs t) {
  if (t == fb::Attrs::NONE) return "none";
  const char* name = fb::EnumNameAttrs(t);
  if (name == nullptr || *name == '\0')
    return "unknown type " + std::to_string(static_cast<int>(t));
  return name;
}

}  // namespace

fb::Attrs attrs_union_type(OpKind op) {
  return union_type_of(default_attrs(op));
}

Result<std::pair<fb::Attrs, flatbuffers::Offset<void>>> encode_attrs(
    flatbuffers::FlatBufferBuilder& fbb, const Node& node) {
  if (!attrs_match_op(node.op, node.attrs)) {
    return invalid_argument("node '" + node.name + "' (" + op_name(node.op) +
                            "): attributes of the wrong type for this op");
  }
  const fb::Attrs type = stored_union_type(node.attrs);
  flatbuffers::Offset<void> value = 0;
  std::visit(
      [&](const auto& a) {
        using A = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<A, LstmAttrs>) {
          value =
              fb::CreateLstmAttrs(fbb, a.hidden_size, a.num_layers, a.hidden_fake_quant).Union();
        } else if constexpr (std::is_same_v<A, LayerNormAttrs>) {
          value = fb::CreateLayerNormAttrs(fbb, a.eps).Union();
        } else if constexpr (std::is_same_v<A, LeakyReluAttrs>) {
          value = fb::CreateLeakyReluAttrs(fbb, a.negative_slope).Union();
        } else if constexpr (std::is_same_v<A, GeluAttrs>) {
          value = fb::CreateGeluAttrs(fbb, a.tanh_approximation).Union();
        } else if constexpr (std::is_same_v<A, ReshapeAttrs>) {
          value = fb::CreateReshapeAttrs(fbb, fbb.CreateVector(a.shape)).Union();
        } else if constexpr (std::is_same_v<A, TransposeAttrs>) {
          value = fb::CreateTransposeAttrs(fbb, fbb.CreateVector(a.perm)).Union();
        } else if constexpr (std::is_same_v<A, SliceAttrs>) {
          value = fb::CreateSliceAttrs(fbb, a.axis, a.start, a.end, a.step, a.squeeze).Union();
        } else if constexpr (std::is_same_v<A, ConcatAttrs>) {
          value = fb::CreateConcatAttrs(fbb, a.axis).Union();
        } else if constexpr (std::is_same_v<A, FakeQuantAttrs>) {
          value = fb::CreateFakeQuantAttrs(fbb, static_cast<fb::FakeQuantMode>(a.mode), a.bits,
                                           a.symmetric, a.unsigned_range, a.per_channel, a.axis,
                                           a.learnable_scale, a.block_size, a.double_quant)
                      .Union();
        } else if constexpr (std::is_same_v<A, LinearAttrs>) {
          if (type != fb::Attrs::NONE)
            value =
                fb::CreateLinearAttrs(fbb, static_cast<fb::FusedActivation>(a.activation)).Union();
        }
      },
      node.attrs);
  return std::make_pair(type, value);
}

Result<Attrs> decode_attrs(OpKind op, const fb::Node& node) {
  const fb::Attrs expected = attrs_union_type(op);
  const fb::Attrs stored = node.attrs_type();
  // A Linear without a fused activation stores no attributes (every file before version 5).
  if (op == OpKind::kLinear && stored == fb::Attrs::NONE) return default_attrs(op);
  if (stored != expected) {
    return invalid_model("attributes of " + union_type_name(stored) + ", expected " +
                         union_type_name(expected));
  }
  if (expected == fb::Attrs::NONE) return default_attrs(op);
  // The verifier accepts an absent union value; a node whose op has attributes must store them.
  if (node.attrs() == nullptr) {
    return invalid_model("attribute type " + union_type_name(stored) + " but no attribute value");
  }
  switch (expected) {
    case fb::Attrs::LstmAttrs: {
      const auto* a = node.attrs_as_LstmAttrs();
      return Attrs{LstmAttrs{a->hidden_size(), a->num_layers(), a->hidden_fake_quant()}};
    }
    case fb::Attrs::LayerNormAttrs:
      return Attrs{LayerNormAttrs{node.attrs_as_LayerNormAttrs()->eps()}};
    case fb::Attrs::LeakyReluAttrs:
      return Attrs{LeakyReluAttrs{node.attrs_as_LeakyReluAttrs()->negative_slope()}};
    case fb::Attrs::GeluAttrs:
      return Attrs{GeluAttrs{node.attrs_as_GeluAttrs()->tanh_approximation()}};
    case fb::Attrs::ReshapeAttrs: {
      QRT_ASSIGN_OR_RETURN(auto shape,
                           read_vector(node.attrs_as_ReshapeAttrs()->shape(), "Reshape shape"));
      return Attrs{ReshapeAttrs{std::move(shape)}};
    }
    case fb::Attrs::TransposeAttrs: {
      QRT_ASSIGN_OR_RETURN(auto perm,
                           read_vector(node.attrs_as_TransposeAttrs()->perm(), "Transpose perm"));
      return Attrs{TransposeAttrs{std::move(perm)}};
    }
    case fb::Attrs::SliceAttrs: {
      const auto* a = node.attrs_as_SliceAttrs();
      return Attrs{SliceAttrs{a->axis(), a->start(), a->end(), a->step(), a->squeeze()}};
    }
    case fb::Attrs::ConcatAttrs:
      return Attrs{ConcatAttrs{node.attrs_as_ConcatAttrs()->axis()}};
    case fb::Attrs::FakeQuantAttrs: {
      const auto* a = node.attrs_as_FakeQuantAttrs();
      const auto raw_mode = static_cast<uint8_t>(a->mode());
      if (raw_mode >= kNumFakeQuantModes)
        return invalid_model("unknown FakeQuant mode " + std::to_string(raw_mode) + " (0.." +
                             std::to_string(kNumFakeQuantModes - 1) + ")");
      FakeQuantAttrs f;
      f.mode = static_cast<FakeQuantMode>(raw_mode);
      f.bits = a->bits();
      f.symmetric = a->symmetric();
      f.unsigned_range = a->unsigned_range();
      f.per_channel = a->per_channel();
      f.axis = a->axis();
      f.learnable_scale = a->learnable_scale();
      f.block_size = a->block_size();
      f.double_quant = a->double_quant();
      return Attrs{f};
    }
    case fb::Attrs::LinearAttrs: {
      const auto raw = static_cast<uint8_t>(node.attrs_as_LinearAttrs()->activation());
      if (raw >= kNumFusedActivations)
        return invalid_model("unknown fused activation " + std::to_string(raw) + " (0.." +
                             std::to_string(kNumFusedActivations - 1) + ")");
      return Attrs{LinearAttrs{static_cast<FusedActivation>(raw)}};
    }
    case fb::Attrs::NONE:
      break;
  }
  return internal_error("attribute type " + union_type_name(expected) + " has no decoder");
}

}  // namespace qrt::ir::serialize_detail
