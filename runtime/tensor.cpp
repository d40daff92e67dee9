#include "runtime/tensor.h"

#include <cstring>
#include <limits>
#include <new>
#include <string>

namespace qrt::runtime {

namespace {
// Matches the weight alignment, so SIMD kernels may assume it for every buffer they touch.
constexpr std::size_t kTensorAlignment = 64;
}  // namespace

const char* device_name(Device d) {
  switch (d) {
    case Device::kCpu:
      return "cpu";
    case Device::kCuda:
      return "cuda";
  }
  return "unknown";
}

void Tensor::Free::operator()(void* p) const {
  ::operator delete (p, std::align_val_t{kTensorAlignment});
}

Result<Tensor> Tensor::allocate(ir::DType dtype, ir::Shape shape) {
  if (!ir::is_valid_dtype(static_cast<uint8_t>(dtype)))
    return invalid_argument("Tensor::allocate: invalid dtype " +
                            std::to_string(static_cast<int>(dtype)));
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return invalid_argument("Tensor::allocate: shape " + ir::shape_to_string(shape) +
                              " has a negative or dynamic dimension");
    if (d != 0 && count > std::numeric_limits<int64_t>::max() / d)
      return invalid_argument("Tensor::allocate: shape " + ir::shape_to_string(shape) +
                              " has too many elements");
    count *= d;
  }
  auto bytes = ir::storage_bytes(dtype, count);
  if (!bytes.is_ok())
    return invalid_argument("Tensor::allocate: " + std::string(ir::dtype_name(dtype)) + " " +
                            ir::shape_to_string(shape) + ": " + bytes.status().message());
  // Round up to whole alignment units (at least one, so even an empty tensor has a non-null data
  // pointer: kernels treat a null pointer as an absent optional input).
  const std::size_t units = *bytes / kTensorAlignment + 1;
  if (units > std::numeric_limits<std::size_t>::max() / kTensorAlignment)
    return out_of_memory("Tensor::allocate: " + std::to_string(*bytes) + " bytes is too large");
  const std::size_t capacity = units * kTensorAlignment;
  void* p = ::operator new (capacity, std::align_val_t{kTensorAlignment}, std::nothrow);
  if (p == nullptr)
    return out_of_memory("Tensor::allocate: cannot allocate " + std::to_string(*bytes) +
                         " bytes for " + std::string(ir::dtype_name(dtype)) + " " +
                         ir::shape_to_string(shape));
  std::memset(p, 0, capacity);
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.bytes_ = *bytes;
  t.data_.reset(p);
  return t;
}

}  // namespace qrt::runtime
