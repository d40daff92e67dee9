// Element types of qrt tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "ir/status.h"

namespace qrt::ir {

// The numeric values are the on-disk encoding (ir/schema/qrt.fbs, enum DType): append only.
enum class DType : uint8_t {
  kF32 = 0,
  kF16 = 1,
  kBF16 = 2,
  kI8 = 3,
  kU8 = 4,
  kI32 = 5,
  kNF4 = 6,  // 4-bit NormalFloat codes, two per byte (ir/quant_formats.h gives the packing)
};
inline constexpr int kNumDTypes = 7;

const char* dtype_name(DType t);                         // "f32", "nf4", ...
std::optional<DType> dtype_from_name(std::string_view);  // inverse of dtype_name
bool is_valid_dtype(uint8_t raw);                        // raw on-disk value in range

// Bits per element: 32, 16, 8 or 4.
int dtype_bits(DType t);

// Bytes needed to store `numel` elements (packed types round up to whole bytes).
// Fails when numel is negative or the size overflows.
Result<std::size_t> storage_bytes(DType t, int64_t numel);

}  // namespace qrt::ir
