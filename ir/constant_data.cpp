#include "ir/constant_data.h"

#include <cstdlib>
#include <string>

namespace qrt::ir {

Result<ConstantData> ConstantData::copy_of(const void* data, std::size_t size) {
  ConstantData c;
  if (size == 0) return c;
  const std::size_t rounded = (size + kWeightAlignment - 1) / kWeightAlignment * kWeightAlignment;
  void* p = std::aligned_alloc(kWeightAlignment, rounded);
  if (!p) return out_of_memory("cannot allocate " + std::to_string(size) + " bytes for a weight");
  std::memcpy(p, data, size);
  c.owner_ = std::shared_ptr<const void>(p, [](const void* q) { std::free(const_cast<void*>(q)); });
  c.data_ = static_cast<const std::byte*>(p);
  c.size_ = size;
  return c;
}

ConstantData ConstantData::borrow(const std::byte* data, std::size_t size,
                                  std::shared_ptr<const void> owner) {
  ConstantData c;
  c.owner_ = std::move(owner);
  c.data_ = data;
  c.size_ = size;
  return c;
}

}  // namespace qrt::ir
