#include "ir/dtype.h"

#include <limits>
#include <string>

namespace qrt::ir {

namespace {
constexpr const char* kNames[kNumDTypes] = {"f32", "f16", "bf16", "i8", "u8", "i32", "nf4"};
}

const char* dtype_name(DType t) {
  auto i = static_cast<int>(t);
  return i < kNumDTypes ? kNames[i] : "invalid";
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (int i = 0; i < kNumDTypes; ++i)
    if (name == kNames[i]) return static_cast<DType>(i);
  return std::nullopt;
}

bool is_valid_dtype(uint8_t raw) {
  return raw < kNumDTypes;
}

int dtype_bits(DType t) {
  switch (t) {
    case DType::kF32:
    case DType::kI32:
      return 32;
    case DType::kF16:
    case DType::kBF16:
      return 16;
    case DType::kI8:
    case DType::kU8:
      return 8;
    case DType::kNF4:
      return 4;
  }
  return 0;
}

Result<std::size_t> storage_bytes(DType t, int64_t numel) {
  if (numel < 0) return invalid_model("negative element count " + std::to_string(numel));
  const auto n = static_cast<uint64_t>(numel);
  const uint64_t bits = static_cast<uint64_t>(dtype_bits(t));
  if (bits == 0) return invalid_model("invalid dtype");
  if (n > std::numeric_limits<uint64_t>::max() / bits)
    return invalid_model("tensor byte size overflows");
  const uint64_t bytes = (n * bits + 7) / 8;
  if (bytes > std::numeric_limits<std::size_t>::max()) return invalid_model("tensor too large");
  return static_cast<std::size_t>(bytes);
}

}  // namespace qrt::ir
