// Immutable bytes of a constant tensor (a weight).
//
// Ownership: ConstantData either owns a 64-byte-aligned copy, or borrows bytes that someone else
// keeps alive (a memory-mapped model file, or a caller's buffer). `owner` keeps a mapping alive for
// as long as any ConstantData (and so any Graph) refers into it, which is what makes loading
// zero-copy: the CPU backend reads weights in place from the mapped file.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>

#include "ir/status.h"

namespace qrt::ir {

inline constexpr std::size_t kWeightAlignment = 64;

class ConstantData {
 public:
  ConstantData() = default;

  // Copies `size` bytes into a new 64-byte-aligned allocation (fails only when out of memory).
  static Result<ConstantData> copy_of(const void* data, std::size_t size);
  // Refers to `size` bytes at `data` without copying; `owner` (may be null when the caller
  // guarantees the bytes outlive every user) is retained.
  static ConstantData borrow(const std::byte* data, std::size_t size,
                             std::shared_ptr<const void> owner);

  const std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }
  template <typename T>
  std::span<const T> as() const {
    return {reinterpret_cast<const T*>(data_), size_ / sizeof(T)};
  }
  bool operator==(const ConstantData& o) const {
    return size_ == o.size_ && (size_ == 0 || std::memcmp(data_, o.data_, size_) == 0);
  }

 private:
  std::shared_ptr<const void> owner_;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace qrt::ir
