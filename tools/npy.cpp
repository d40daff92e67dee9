#include "tools/npy.h"

#include <bit>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <string_view>

namespace qrt::tools {

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr std::size_t kPreludeV1 = 10;  // magic (6) + version (2) + u16 header length
constexpr std::size_t kPreludeV2 = 12;  // magic (6) + version (2) + u32 header length
constexpr std::size_t kHeaderAlignment = 64;

uint32_t read_le(const std::byte* p, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// A tiny reader for the Python dict literal of the header: string keys, and values that are a
// string, True/False, or a tuple of non-negative integers.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& what) : text_(text), what_(what) {}

  Status parse(std::string& descr, std::optional<bool>& fortran, std::optional<ir::Shape>& shape) {
    skip_space();
    if (!eat('{')) return error("header does not start with '{'");
    while (true) {
      skip_space();
      if (eat('}')) break;
      std::string key;
      QRT_RETURN_IF_ERROR(string_literal(key));
      skip_space();
      if (!eat(':')) return error("expected ':' after key '" + key + "'");
      skip_space();
      if (key == "descr") {
        QRT_RETURN_IF_ERROR(string_literal(descr));
      } else if (key == "fortran_order") {
        bool b = false;
        QRT_RETURN_IF_ERROR(boolean(b));
        fortran = b;
      } else if (key == "shape") {
        ir::Shape s;
        QRT_RETURN_IF_ERROR(tuple(s));
        shape = std::move(s);
      } else {
        return error("unexpected header key '" + key + "'");
      }
      skip_space();
      if (eat(',')) continue;
      skip_space();
      if (eat('}')) break;
      return error("expected ',' or '}' in the header");
    }
    return Status::ok();
  }

 private:
  Status error(const std::string& m) const {
    return invalid_argument(what_ + ": malformed .npy header: " + m);
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool eat(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  Status string_literal(std::string& out) {
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      return error("expected a quoted string");
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) return error("unterminated string");
    out = std::string(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return Status::ok();
  }
  Status boolean(bool& out) {
    if (text_.substr(pos_, 4) == "True") {
      pos_ += 4;
      out = true;
    } else if (text_.substr(pos_, 5) == "False") {
      pos_ += 5;
      out = false;
    } else {
      return error("fortran_order must be True or False");
    }
    return Status::ok();
  }
  Status tuple(ir::Shape& out) {
    if (!eat('(')) return error("shape must be a tuple");
    while (true) {
      skip_space();
      if (eat(')')) return Status::ok();
      if (pos_ >= text_.size() || !std::isdigit(static_cast<unsigned char>(text_[pos_])))
        return error("shape dimensions must be non-negative integers");
      int64_t d = 0;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
        const int digit = text_[pos_++] - '0';
        if (d > (std::numeric_limits<int64_t>::max() - digit) / 10)
          return error("shape dimension too large");
        d = d * 10 + digit;
      }
      if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2 long suffix
      out.push_back(d);
      skip_space();
      if (eat(',')) continue;
      skip_space();
      if (eat(')')) return Status::ok();
      return error("expected ',' or ')' in the shape");
    }
  }

  std::string_view text_;
  const std::string& what_;
  std::size_t pos_ = 0;
};

}  // namespace

Result<runtime::Tensor> parse_npy(std::span<const std::byte> bytes, const std::string& what) {
  const auto bad = [&](const std::string& m) { return invalid_argument(what + ": " + m); };
  if (bytes.size() < kPreludeV1 || std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0)
    return bad("not a .npy file (missing the \\x93NUMPY magic)");
  const int major = static_cast<uint8_t>(bytes[6]);
  const int minor = static_cast<uint8_t>(bytes[7]);
  if ((major != 1 && major != 2) || minor != 0)
    return bad(".npy format version " + std::to_string(major) + "." + std::to_string(minor) +
               " is not supported (expected 1.0 or 2.0)");
  const std::size_t prelude = major == 1 ? kPreludeV1 : kPreludeV2;
  if (bytes.size() < prelude) return bad("truncated .npy header");
  const std::size_t header_len = read_le(bytes.data() + 8, major == 1 ? 2 : 4);
  if (header_len > bytes.size() - prelude)
    return bad("truncated .npy header (header length " + std::to_string(header_len) +
               " exceeds the file)");
  const std::string_view header(reinterpret_cast<const char*>(bytes.data() + prelude), header_len);

  std::string descr;
  std::optional<bool> fortran;
  std::optional<ir::Shape> shape;
  QRT_RETURN_IF_ERROR(HeaderParser(header, what).parse(descr, fortran, shape));
  if (descr.empty() || !fortran || !shape)
    return bad("malformed .npy header: needs 'descr', 'fortran_order' and 'shape'");
  // '<' little-endian; '=' native, and this reader runs on little-endian hosts only (see below).
  if (descr != "<f4" && !(descr == "=f4" && std::endian::native == std::endian::little))
    return bad("dtype '" + descr + "' is not supported (expected little-endian float32 '<f4')");
  if (*fortran) return bad("Fortran-order arrays are not supported (save a C-contiguous array)");

  auto tensor = runtime::Tensor::allocate(ir::DType::kF32, *shape);
  if (!tensor.is_ok()) return bad(tensor.status().message());
  const std::size_t data_bytes = tensor->byte_size();
  const std::size_t available = bytes.size() - prelude - header_len;
  if (available != data_bytes)
    return bad("shape " + ir::shape_to_string(*shape) + " needs " + std::to_string(data_bytes) +
               " data bytes, the file has " + std::to_string(available) +
               (available < data_bytes ? " (truncated)" : " (trailing bytes)"));
  const std::byte* src = bytes.data() + prelude + header_len;
  if constexpr (std::endian::native == std::endian::little) {
    if (data_bytes > 0) std::memcpy(tensor->data(), src, data_bytes);
  } else {
    auto out = tensor->span<float>();
    for (std::size_t i = 0; i < out.size(); ++i) {
      const uint32_t bits = read_le(src + 4 * i, 4);
      std::memcpy(&out[i], &bits, 4);
    }
  }
  return tensor;
}

Result<runtime::Tensor> read_npy(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return io_error("'" + path + "' is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("cannot open '" + path + "': " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) return io_error("cannot read '" + path + "' (is it a directory?)");
  in.seekg(0, std::ios::beg);
  std::vector<std::byte> bytes(static_cast<std::size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
    return io_error("cannot read '" + path + "'");
  return parse_npy(bytes, "'" + path + "'");
}

Result<std::vector<std::byte>> encode_npy(const ir::Shape& shape, std::span<const float> data) {
  auto count = ir::checked_numel(shape);
  if (!count.is_ok()) return invalid_argument("encode_npy: " + count.status().message());
  if (static_cast<uint64_t>(*count) != data.size())
    return invalid_argument("encode_npy: shape " + ir::shape_to_string(shape) + " holds " +
                            std::to_string(*count) + " elements, data has " +
                            std::to_string(data.size()));
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i)
    dict += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? "," : "") +
            (i + 1 < shape.size() ? " " : "");
  dict += "), }";
  // Pad with spaces so that the data starts at a multiple of 64 bytes; the header ends with '\n'.
  const bool v2 = kPreludeV1 + dict.size() + 1 > std::numeric_limits<uint16_t>::max();
  const std::size_t prelude = v2 ? kPreludeV2 : kPreludeV1;
  const std::size_t total =
      (prelude + dict.size() + 1 + kHeaderAlignment - 1) / kHeaderAlignment * kHeaderAlignment;
  dict.append(total - prelude - dict.size() - 1, ' ');
  dict += '\n';

  std::vector<std::byte> out(total + data.size_bytes());
  std::memcpy(out.data(), kMagic.data(), kMagic.size());
  out[6] = std::byte{static_cast<uint8_t>(v2 ? 2 : 1)};
  out[7] = std::byte{0};
  const std::size_t header_len = dict.size();
  for (std::size_t i = 0; i < (v2 ? 4u : 2u); ++i)
    out[8 + i] = std::byte{static_cast<uint8_t>(header_len >> (8 * i))};
  std::memcpy(out.data() + prelude, dict.data(), dict.size());
  for (std::size_t i = 0; i < data.size(); ++i) {
    uint32_t bits = 0;
    std::memcpy(&bits, &data[i], 4);
    for (int b = 0; b < 4; ++b)
      out[total + 4 * i + b] = std::byte{static_cast<uint8_t>(bits >> (8 * b))};
  }
  return out;
}

Status write_npy(const std::string& path, const ir::Shape& shape, std::span<const float> data) {
  QRT_ASSIGN_OR_RETURN(auto bytes, encode_npy(shape, data));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return io_error("cannot write '" + path + "': " + std::strerror(errno));
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return io_error("cannot write '" + path + "': write failed");
  return Status::ok();
}

}  // namespace qrt::tools
