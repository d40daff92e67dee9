// .qrt bytes -> Graph: the one door through which untrusted model bytes enter (ir/schema/README.md,
// "Loading: one door"). Checks run in order: header, flatbuffers::Verifier (every offset, vector
// and string lies inside the flatbuffer), semantic validation (the Verifier accepts any enum value,
// any union type, any index and any number), then ir::verify. Each rejection names the tensor or
// node.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "ir/serialize_internal.h"

namespace qrt::ir::serialize_detail {

namespace {

std::string printable(const std::byte* bytes, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
      s += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      s += hex;
    }
  }
  return s;
}

std::string float_text(float f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(f));
  return buf;
}

std::string tensor_label(std::size_t index, const std::string& name) {
  return name.empty() ? "tensor #" + std::to_string(index) : "tensor '" + name + "'";
}

std::string node_label(std::size_t index, const std::string& name) {
  return name.empty() ? "node #" + std::to_string(index) : "node '" + name + "'";
}

// Prefixes the error of `r` (if any) with `context`.
template <typename T>
Result<T> in_context(Result<T> r, const std::string& context) {
  if (!r) return r.status().with_context(context);
  return r;
}

std::string str(const flatbuffers::String* s) {
  return s == nullptr ? std::string() : s->str();
}

// Step 1: size, alignment, size prefix, identifier. Returns the size of the prefixed flatbuffer.
Result<std::size_t> check_header(const std::byte* data, std::size_t size) {
  if (data == nullptr) return invalid_argument("model bytes are null");
  if (size < kHeaderBytes) {
    return invalid_model("truncated: " + std::to_string(size) +
                         " bytes, a qrt model has at least " + std::to_string(kHeaderBytes) +
                         " (size prefix, root offset, identifier)");
  }
  if (reinterpret_cast<std::uintptr_t>(data) % kWeightAlignment != 0) {
    return invalid_argument("model bytes must start at a " + std::to_string(kWeightAlignment) +
                            "-byte aligned address (weights are used in place)");
  }
  const uint64_t prefixed =
      uint64_t{flatbuffers::ReadScalar<uint32_t>(data)} + uint64_t{kSizePrefixBytes};
  if (prefixed > size) {
    return invalid_model("truncated: the size prefix announces a " + std::to_string(prefixed) +
                         "-byte flatbuffer, but the model has " + std::to_string(size) + " bytes");
  }
  const std::byte* id = data + kIdentifierOffset;
  const char* expected = fb::ModelIdentifier();
  if (std::memcmp(id, expected, 4) != 0) {
    if (std::memcmp(id, expected, 3) == 0) {
      return unsupported("file is qrt format major version '" + printable(id + 3, 1) +
                         "' (identifier \"" + printable(id, 4) + "\"); this reader reads major " +
                         "version 1 (\"" + expected + "\")");
    }
    return invalid_model("not a qrt model: file identifier \"" + printable(id, 4) +
                         "\", expected \"" + expected + "\"");
  }
  if (prefixed >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    return invalid_model("flatbuffer of " + std::to_string(prefixed) + " bytes exceeds the " +
                         "flatbuffers limit");
  }
  return static_cast<std::size_t>(prefixed);
}

Status check_version(const fb::Model& model) {
  if (model.format_version() > kFormatVersion) {
    return unsupported("model has format version " + std::to_string(model.format_version()) +
                       ", this reader knows format version " + std::to_string(kFormatVersion) +
                       " and older; a newer qrt is needed to read it");
  }
  return Status::ok();
}

Result<QuantParams> read_quant(const fb::QuantParams& fq) {
  QuantParams q;
  const auto raw_scheme = static_cast<uint8_t>(fq.scheme());
  if (raw_scheme >= kNumQuantSchemes) {
    return invalid_model("unknown quantization scheme " + std::to_string(raw_scheme));
  }
  q.scheme = static_cast<QuantScheme>(raw_scheme);
  q.axis = fq.axis();
  QRT_ASSIGN_OR_RETURN(q.scales, read_vector(fq.scales(), "quantization scales"));
  QRT_ASSIGN_OR_RETURN(q.zero_points, read_vector(fq.zero_points(), "zero points"));
  q.block_size = fq.block_size();
  q.double_quant = fq.double_quant();
  QRT_ASSIGN_OR_RETURN(q.absmax_codes, read_vector(fq.absmax_codes(), "absmax codes"));
  QRT_ASSIGN_OR_RETURN(q.group_scales, read_vector(fq.group_scales(), "group scales"));
  q.absmax_offset = fq.absmax_offset();
  q.group_size = fq.group_size();
  // A NaN or non-positive scale would poison every dequantized value; reject it at the door.
  for (std::size_t i = 0; i < q.scales.size(); ++i) {
    if (!std::isfinite(q.scales[i]) || q.scales[i] <= 0.0f) {
      return invalid_model("quantization scale #" + std::to_string(i) + " is " +
                           float_text(q.scales[i]) + "; scales must be finite and > 0");
    }
  }
  for (std::size_t i = 0; i < q.group_scales.size(); ++i) {
    if (!std::isfinite(q.group_scales[i])) {
      return invalid_model("NF4 double-quantization group scale #" + std::to_string(i) + " is " +
                           float_text(q.group_scales[i]));
    }
  }
  if (!std::isfinite(q.absmax_offset)) {
    return invalid_model("NF4 double-quantization absmax offset is " + float_text(q.absmax_offset));
  }
  return q;
}

// Reads one flatbuffer Model (already through the Verifier) into a Graph.
class ModelReader {
 public:
  ModelReader(const std::byte* data, std::size_t size, std::size_t flatbuffer_end,
              std::shared_ptr<const void> owner, const fb::Model& model)
      : data_(data),
        size_(size),
        flatbuffer_end_(flatbuffer_end),
        owner_(std::move(owner)),
        model_(model),
        fgraph_(*model.graph()) {
    num_tensors_ = fgraph_.tensors() == nullptr ? 0 : fgraph_.tensors()->size();
    num_buffers_ = model.buffers() == nullptr ? 0 : model.buffers()->size();
  }

  Result<Graph> read() {
    Graph graph;
    QRT_ASSIGN_OR_RETURN(graph.inputs, read_graph_ends(fgraph_.inputs(), "input"));
    QRT_ASSIGN_OR_RETURN(graph.outputs, read_graph_ends(fgraph_.outputs(), "output"));
    graph.values.reserve(num_tensors_);
    for (uint32_t i = 0; i < num_tensors_; ++i) {
      QRT_ASSIGN_OR_RETURN(Value v, read_tensor(i));
      graph.values.push_back(std::move(v));
    }
    // Buffers no tensor refers to must be sane too: a later writer or tool may walk them.
    for (uint32_t b = 0; b < num_buffers_; ++b) {
      QRT_RETURN_IF_ERROR(check_buffer(b, "model"));
    }
    const auto* nodes = fgraph_.nodes();
    const uint32_t num_nodes = nodes == nullptr ? 0 : nodes->size();
    graph.nodes.reserve(num_nodes);
    for (uint32_t j = 0; j < num_nodes; ++j) {
      QRT_ASSIGN_OR_RETURN(Node n, read_node(j, *nodes->Get(j)));
      graph.nodes.push_back(std::move(n));
    }
    QRT_ASSIGN_OR_RETURN(graph.metadata, read_metadata());
    QRT_RETURN_IF_ERROR(verify(graph));
    return graph;
  }

 private:
  Result<std::vector<ValueId>> read_graph_ends(const flatbuffers::Vector<int32_t>* ids,
                                               const char* what) const {
    const std::string where = "graph " + std::string(what) + "s";
    QRT_ASSIGN_OR_RETURN(std::vector<ValueId> out, read_vector(ids, where));
    for (std::size_t k = 0; k < out.size(); ++k) {
      if (out[k] < 0 || static_cast<uint32_t>(out[k]) >= num_tensors_) {
        return invalid_model("graph " + std::string(what) + " #" + std::to_string(k) +
                             " refers to tensor " + std::to_string(out[k]) +
                             ", but the model has " + std::to_string(num_tensors_) + " tensors");
      }
    }
    return out;
  }

  // Buffer `index` must be 64-aligned, after the flatbuffer and inside the file.
  Status check_buffer(uint32_t index, const std::string& who) const {
    const fb::Buffer& b = *model_.buffers()->Get(index);
    const uint64_t offset = b.offset();
    const uint64_t bytes = b.size();
    const std::string where = who + ": buffer " + std::to_string(index) + " at offset " +
                              std::to_string(offset) + " (" + std::to_string(bytes) + " bytes)";
    if (offset % kWeightAlignment != 0) {
      return invalid_model(where + " is not a multiple of " + std::to_string(kWeightAlignment));
    }
    if (offset < flatbuffer_end_) {
      return invalid_model(where + " overlaps the flatbuffer, which ends at byte " +
                           std::to_string(flatbuffer_end_));
    }
    // Written as a subtraction so that a huge offset + size cannot wrap around.
    if (bytes > size_ || offset > size_ - bytes) {
      return invalid_model(where + " runs past the end of the file (" + std::to_string(size_) +
                           " bytes)");
    }
    return Status::ok();
  }

  Result<Value> read_tensor(uint32_t index) const {
    const fb::Tensor& t = *fgraph_.tensors()->Get(index);
    Value v;
    v.name = t.name()->str();
    const std::string label = tensor_label(index, v.name);
    const auto raw_dtype = static_cast<uint8_t>(t.dtype());
    if (!is_valid_dtype(raw_dtype)) {
      return invalid_model(label + ": unknown dtype " + std::to_string(raw_dtype));
    }
    v.dtype = static_cast<DType>(raw_dtype);
    QRT_ASSIGN_OR_RETURN(v.shape, in_context(read_vector(t.shape(), "shape"), label));
    const bool is_constant = t.buffer() != -1;

    // -1 marks a dynamic dimension: on graph inputs, and on intermediate values whose stored shape
    // is only a hint (verify re-derives it). Constants are always static.
    Shape static_part = v.shape;
    for (std::size_t k = 0; k < v.shape.size(); ++k) {
      const int64_t d = v.shape[k];
      if (d < kDynamicDim) {
        return invalid_model(label + ": negative dimension " + std::to_string(d) + " at axis " +
                             std::to_string(k));
      }
      if (d == kDynamicDim && is_constant) {
        return invalid_model(label + ": constant has a dynamic dimension (-1) at axis " +
                             std::to_string(k) + "; constants need a static shape");
      }
      if (d == kDynamicDim) static_part[k] = 1;
    }
    // Element count and byte size of the static part must fit, whatever the tensor is.
    QRT_ASSIGN_OR_RETURN(const int64_t n, in_context(checked_numel(static_part), label));
    QRT_ASSIGN_OR_RETURN(
        const std::size_t nbytes,
        in_context(storage_bytes(v.dtype, n),
                   label + " (" + dtype_name(v.dtype) + " " + shape_to_string(v.shape) + ")"));

    if (is_constant) {
      const int32_t b = t.buffer();
      if (b < 0 || static_cast<uint32_t>(b) >= num_buffers_) {
        return invalid_model(label + ": buffer index " + std::to_string(b) +
                             " out of range (the model has " + std::to_string(num_buffers_) +
                             " buffers)");
      }
      QRT_RETURN_IF_ERROR(check_buffer(static_cast<uint32_t>(b), label));
      const fb::Buffer& buf = *model_.buffers()->Get(static_cast<uint32_t>(b));
      if (buf.size() != nbytes) {
        return invalid_model(label + ": buffer " + std::to_string(b) + " holds " +
                             std::to_string(buf.size()) + " bytes, but " + dtype_name(v.dtype) +
                             " " + shape_to_string(v.shape) + " needs " + std::to_string(nbytes));
      }
      v.data = ConstantData::borrow(data_ + buf.offset(), nbytes, owner_);
    }
    if (t.quant() != nullptr) {
      QRT_ASSIGN_OR_RETURN(v.quant, in_context(read_quant(*t.quant()), label));
    }
    return v;
  }

  Result<Node> read_node(uint32_t index, const fb::Node& fn) const {
    Node n;
    n.name = fn.name()->str();
    const auto raw_op = static_cast<uint16_t>(fn.op());
    if (!is_valid_op(raw_op)) {
      return invalid_model(node_label(index, n.name) + ": unknown op kind " +
                           std::to_string(raw_op) + " (this reader knows " +
                           std::to_string(kNumOpKinds) + " ops, 0.." +
                           std::to_string(kNumOpKinds - 1) + ")");
    }
    n.op = static_cast<OpKind>(raw_op);
    const std::string label = node_label(index, n.name) + " (" + op_name(n.op) + ")";
    QRT_ASSIGN_OR_RETURN(n.attrs, in_context(decode_attrs(n.op, fn), label));

    QRT_ASSIGN_OR_RETURN(n.inputs, in_context(read_vector(fn.inputs(), "inputs"), label));
    QRT_ASSIGN_OR_RETURN(n.outputs, in_context(read_vector(fn.outputs(), "outputs"), label));
    auto check_ids = [&](const std::vector<ValueId>& ids, const char* what,
                         bool absent_allowed) -> Status {
      for (std::size_t k = 0; k < ids.size(); ++k) {
        const ValueId id = ids[k];
        const bool absent = absent_allowed && id == kNoValue;
        if (!absent && (id < 0 || static_cast<uint32_t>(id) >= num_tensors_)) {
          return invalid_model(label + ": " + what + " #" + std::to_string(k) +
                               " refers to tensor " + std::to_string(id) + ", but the model has " +
                               std::to_string(num_tensors_) + " tensors");
        }
      }
      return Status::ok();
    };
    QRT_RETURN_IF_ERROR(check_ids(n.inputs, "input", /*absent_allowed=*/true));
    QRT_RETURN_IF_ERROR(check_ids(n.outputs, "output", /*absent_allowed=*/false));

    if (const fb::Precision* p = fn.precision()) {
      if (p->precision() != nullptr) n.precision.precision = p->precision()->str();
      n.precision.reason = str(p->reason());
      n.precision.outlier_threshold = p->outlier_threshold();
    }
    return n;
  }

  Result<std::map<std::string, std::string>> read_metadata() const {
    std::map<std::string, std::string> metadata;
    if (const auto* kvs = model_.metadata()) {
      for (const fb::KeyValue* kv : *kvs) {
        const std::string key = kv->key()->str();
        if (!metadata.emplace(key, str(kv->value())).second) {
          return invalid_model("metadata key '" + key + "' appears twice");
        }
      }
    }
    // Writers that set only Model.producer (e.g. the PyTorch exporter) still show it to tools.
    if (model_.producer() != nullptr) metadata.emplace("producer", model_.producer()->str());
    return metadata;
  }

  const std::byte* data_;
  std::size_t size_;
  std::size_t flatbuffer_end_;
  std::shared_ptr<const void> owner_;
  const fb::Model& model_;
  const fb::Graph& fgraph_;
  uint32_t num_tensors_ = 0;
  uint32_t num_buffers_ = 0;
};

}  // namespace

Result<Graph> decode_model(const std::byte* data, std::size_t size,
                           std::shared_ptr<const void> owner) {
  QRT_ASSIGN_OR_RETURN(const std::size_t prefixed, check_header(data, size));
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(data), prefixed);
  if (!fb::VerifySizePrefixedModelBuffer(verifier)) {
    return invalid_model(
        "the flatbuffer is corrupt (flatbuffers::Verifier rejected it: an offset, "
        "vector or string lies outside the buffer, or a required field is "
        "missing)");
  }
  const fb::Model& model = *fb::GetSizePrefixedModel(data);
  QRT_RETURN_IF_ERROR(check_version(model));
  return ModelReader(data, size, prefixed, std::move(owner), model).read();
}

}  // namespace qrt::ir::serialize_detail
