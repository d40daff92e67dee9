// Tensors as the runtime sees them: non-owning views handed to kernels, and an owning host Tensor
// for callers. A view knows its device; CPU kernels only ever see kCpu views.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "ir/dtype.h"
#include "ir/shape.h"
#include "ir/status.h"

namespace qrt::runtime {

enum class Device { kCpu, kCuda };
const char* device_name(Device d);

// Read-only view. data == nullptr marks an absent optional input.
struct ConstTensorView {
  ir::DType dtype = ir::DType::kF32;
  ir::Shape shape;
  const void* data = nullptr;
  Device device = Device::kCpu;

  template <typename T>
  const T* as() const {
    return static_cast<const T*>(data);
  }
  int64_t numel() const { return ir::numel(shape); }
  bool present() const { return data != nullptr; }
};

struct TensorView {
  ir::DType dtype = ir::DType::kF32;
  ir::Shape shape;
  void* data = nullptr;
  Device device = Device::kCpu;

  template <typename T>
  T* as() const {
    return static_cast<T*>(data);
  }
  int64_t numel() const { return ir::numel(shape); }
  operator ConstTensorView() const { return {dtype, shape, data, device}; }  // NOLINT
};

// An owning, 64-byte-aligned host tensor.
class Tensor {
 public:
  Tensor() = default;
  // Allocates dtype × shape (zero-filled); fails on a bad shape or when out of memory.
  static Result<Tensor> allocate(ir::DType dtype, ir::Shape shape);

  ir::DType dtype() const { return dtype_; }
  const ir::Shape& shape() const { return shape_; }
  int64_t numel() const { return ir::numel(shape_); }
  std::size_t byte_size() const { return bytes_; }
  void* data() { return data_.get(); }
  const void* data() const { return data_.get(); }
  template <typename T>
  std::span<T> span() {
    return {static_cast<T*>(data()), bytes_ / sizeof(T)};
  }
  template <typename T>
  std::span<const T> span() const {
    return {static_cast<const T*>(data()), bytes_ / sizeof(T)};
  }
  TensorView view() { return {dtype_, shape_, data(), Device::kCpu}; }
  ConstTensorView view() const { return {dtype_, shape_, data(), Device::kCpu}; }

 private:
  struct Free {
    void operator()(void* p) const;
  };
  ir::DType dtype_ = ir::DType::kF32;
  ir::Shape shape_;
  std::size_t bytes_ = 0;
  std::unique_ptr<void, Free> data_;
};

}  // namespace qrt::runtime
