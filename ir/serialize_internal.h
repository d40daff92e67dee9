// Internal to ir/serialize*.cpp (and the corpus generator in tests/format): the encoder and decoder
// behind ir/serialize.h, plus the conversions they share. Not a public header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/schema/qrt_generated.h"
#include "ir/serialize.h"

namespace qrt::ir::serialize_detail {

// The minor version this reader understands and this writer writes (qrt.fbs, Model.format_version).
// kFormatVersion (ir/serialize.h) is the minor version this reader understands and this writer
// writes.
// u32 size prefix + u32 root table offset + 4-byte file identifier.
inline constexpr std::size_t kHeaderBytes = 12;
inline constexpr std::size_t kIdentifierOffset = 8;
inline constexpr std::size_t kSizePrefixBytes = sizeof(uint32_t);

// Rounds `n` up to the next multiple of kWeightAlignment.
constexpr uint64_t align_to_weights(uint64_t n) {
  return (n + kWeightAlignment - 1) / kWeightAlignment * kWeightAlignment;
}

// Copies a verified flatbuffer vector. flatbuffers::Verifier checks a vector's length field for
// 4-byte alignment only, so a damaged file can place 8-byte elements at a 4-byte boundary; reading
// those would be undefined behaviour, and no writer produces them, so they are rejected.
template <typename T>
Result<std::vector<T>> read_vector(const flatbuffers::Vector<T>* v, const std::string& what) {
  // flatbuffers does not align empty vectors, and an empty vector reads nothing.
  if (v == nullptr || v->size() == 0) return std::vector<T>{};
  if (reinterpret_cast<std::uintptr_t>(v->Data()) % alignof(T) != 0) {
    return invalid_model(what + " is not " + std::to_string(alignof(T)) +
                         "-byte aligned (corrupt flatbuffer)");
  }
  return std::vector<T>(v->begin(), v->end());
}

// Writes `graph` without verifying it first (serialize_model verifies; the corpus generator
// uses this to write deliberately broken models). Deterministic.
Result<std::vector<std::byte>> encode_model(const Graph& graph);

// The one door for untrusted bytes: header, flatbuffers::Verifier, semantic validation, then
// ir::verify. `data` must be 64-byte aligned; weights borrow from it and retain `owner`.
Result<Graph> decode_model(const std::byte* data, std::size_t size,
                           std::shared_ptr<const void> owner);

// Attribute union <-> ir::Attrs (serialize_attrs.cpp).
// The union member that ops.def's attribute type for `op` is stored as (NONE for ops without
// attributes). A Linear may also store NONE: it does when it has no fused activation.
fb::Attrs attrs_union_type(OpKind op);
// Returns the union type and value to store for `attrs`; fails when they do not match `op`.
Result<std::pair<fb::Attrs, flatbuffers::Offset<void>>> encode_attrs(
    flatbuffers::FlatBufferBuilder& fbb, const Node& node);
// Reads a verified node's attributes; the message (without the node prefix) says what is wrong.
Result<Attrs> decode_attrs(OpKind op, const fb::Node& node);

}  // namespace qrt::ir::serialize_detail
