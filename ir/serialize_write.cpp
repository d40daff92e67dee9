// Graph -> .qrt bytes (layout: ir/schema/README.md).
//
// The flatbuffer records each weight's absolute file offset, and those offsets depend on the size
// of the flatbuffer itself. The size does not depend on the offset values (every offset is >= 64,
// so no field is ever dropped as equal to its default, and flatbuffers lays out tables by field
// presence, not value), so the writer builds once with provisional offsets, lays the weights out
// after that size, and builds again with the real ones; a third build is never needed but is
// checked for.
#include <cstring>
#include <string>

#include "ir/serialize_internal.h"

namespace qrt::ir::serialize_detail {

namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

flatbuffers::Offset<fb::QuantParams> encode_quant(FlatBufferBuilder& fbb, const QuantParams& q) {
  // Empty arrays are not written (absent reads back as empty), which keeps files canonical.
  auto floats = [&](const std::vector<float>& v) {
    return v.empty() ? Offset<flatbuffers::Vector<float>>() : fbb.CreateVector(v);
  };
  const auto scales = floats(q.scales);
  const auto zero_points = q.zero_points.empty() ? Offset<flatbuffers::Vector<int32_t>>()
                                                 : fbb.CreateVector(q.zero_points);
  const auto absmax_codes = q.absmax_codes.empty() ? Offset<flatbuffers::Vector<int8_t>>()
                                                   : fbb.CreateVector(q.absmax_codes);
  const auto group_scales = floats(q.group_scales);
  return fb::CreateQuantParams(fbb, static_cast<fb::QuantScheme>(q.scheme), q.axis, scales,
                               zero_points, q.block_size, q.double_quant, absmax_codes,
                               group_scales, q.absmax_offset, q.group_size);
}

// Fills `fbb` with the size-prefixed Model; `offsets[k]` is the file offset of the k-th constant
// (constants are numbered in value order, which is also the order of Model.buffers).
Status build_flatbuffer(const Graph& graph, const std::vector<uint64_t>& offsets,
                        FlatBufferBuilder& fbb) {
  std::vector<Offset<fb::Tensor>> tensors;
  tensors.reserve(graph.values.size());
  std::vector<Offset<fb::Buffer>> buffers;
  for (const Value& v : graph.values) {
    const auto name = fbb.CreateString(v.name);
    const auto shape = fbb.CreateVector(v.shape);
    const auto quant = v.quant ? encode_quant(fbb, *v.quant) : Offset<fb::QuantParams>();
    int32_t buffer = -1;
    if (v.is_constant()) {
      const std::size_t k = buffers.size();
      buffer = static_cast<int32_t>(k);
      buffers.push_back(fb::CreateBuffer(fbb, offsets[k], v.data->size()));
    }
    tensors.push_back(
        fb::CreateTensor(fbb, name, static_cast<fb::DType>(v.dtype), shape, buffer, quant));
  }

  std::vector<Offset<fb::Node>> nodes;
  nodes.reserve(graph.nodes.size());
  for (const Node& n : graph.nodes) {
    const auto name = fbb.CreateString(n.name);
    QRT_ASSIGN_OR_RETURN(const auto attrs, encode_attrs(fbb, n));
    const auto inputs = fbb.CreateVector(n.inputs);
    const auto outputs = fbb.CreateVector(n.outputs);
    const auto precision =
        fb::CreatePrecision(fbb, fbb.CreateString(n.precision.precision),
                            fbb.CreateString(n.precision.reason), n.precision.outlier_threshold);
    nodes.push_back(fb::CreateNode(fbb, name, static_cast<fb::OpKind>(n.op), attrs.first,
                                   attrs.second, inputs, outputs, precision));
  }

  const auto fb_graph =
      fb::CreateGraph(fbb, fbb.CreateVector(tensors), fbb.CreateVector(nodes),
                      fbb.CreateVector(graph.inputs), fbb.CreateVector(graph.outputs));

  // std::map iterates in byte-wise key order, the order flatbuffers' `key` lookup expects.
  std::vector<Offset<fb::KeyValue>> metadata;
  for (const auto& [key, value] : graph.metadata) {
    metadata.push_back(fb::CreateKeyValue(fbb, fbb.CreateString(key), fbb.CreateString(value)));
  }
  // Model.producer mirrors metadata["producer"] so that tools reading only the header see it.
  const auto producer_it = graph.metadata.find("producer");
  const auto producer = producer_it == graph.metadata.end() ? Offset<flatbuffers::String>()
                                                            : fbb.CreateString(producer_it->second);
  const auto model = fb::CreateModel(fbb, kFormatVersion, producer, fb_graph,
                                     fbb.CreateVector(buffers), fbb.CreateVector(metadata));
  fb::FinishSizePrefixedModelBuffer(fbb, model);
  return Status::ok();
}

// Offsets of the constants when the flatbuffer (with its size prefix) takes `flatbuffer_bytes`:
// in value order, each at the next 64-byte boundary.
std::vector<uint64_t> lay_out_weights(const std::vector<const Value*>& constants,
                                      uint64_t flatbuffer_bytes) {
  std::vector<uint64_t> offsets;
  offsets.reserve(constants.size());
  uint64_t cursor = flatbuffer_bytes;
  for (const Value* v : constants) {
    const uint64_t offset = align_to_weights(cursor);
    offsets.push_back(offset);
    cursor = offset + v->data->size();
  }
  return offsets;
}

}  // namespace

Result<std::vector<std::byte>> encode_model(const Graph& graph) {
  std::vector<const Value*> constants;
  for (const Value& v : graph.values)
    if (v.is_constant()) constants.push_back(&v);

  // Provisional offsets: any non-zero value gives the final flatbuffer size (see the file comment).
  std::vector<uint64_t> offsets(constants.size(), kWeightAlignment);
  constexpr int kMaxLayoutPasses = 3;
  for (int pass = 0; pass < kMaxLayoutPasses; ++pass) {
    FlatBufferBuilder fbb;  // fresh each time: no state carried between passes
    QRT_RETURN_IF_ERROR(build_flatbuffer(graph, offsets, fbb));
    const uint64_t fb_bytes = fbb.GetSize();
    std::vector<uint64_t> laid_out = lay_out_weights(constants, fb_bytes);
    if (laid_out != offsets) {
      offsets = std::move(laid_out);
      continue;
    }
    const uint64_t file_bytes =
        constants.empty() ? fb_bytes : offsets.back() + constants.back()->data->size();
    std::vector<std::byte> bytes(file_bytes);  // zero padding between the pieces
    std::memcpy(bytes.data(), fbb.GetBufferPointer(), fb_bytes);
    for (std::size_t k = 0; k < constants.size(); ++k) {
      const ConstantData& d = *constants[k]->data;
      if (d.size() != 0) std::memcpy(bytes.data() + offsets[k], d.data(), d.size());
    }
    return bytes;
  }
  return internal_error("weight layout did not settle after " + std::to_string(kMaxLayoutPasses) +
                        " passes");
}

}  // namespace qrt::ir::serialize_detail
