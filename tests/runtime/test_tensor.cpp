// Tensor allocation: alignment, zero fill, size checks; and the kernel registry's lookup order.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "runtime/kernel_registry.h"
#include "runtime/tensor.h"

using namespace qrt;
using runtime::Device;
using runtime::Tensor;

TEST_CASE("Tensor::allocate: aligned, zero-filled, sized by dtype") {
  for (ir::Shape shape : {ir::Shape{1}, ir::Shape{3, 7}, ir::Shape{2, 1, 13}, ir::Shape{}}) {
    INFO("shape " << ir::shape_to_string(shape));
    auto t = Tensor::allocate(ir::DType::kF32, shape);
    REQUIRE(t.is_ok());
    CHECK(reinterpret_cast<std::uintptr_t>(t->data()) % 64 == 0);
    CHECK(t->byte_size() == static_cast<std::size_t>(ir::numel(shape)) * 4);
    CHECK(t->shape() == shape);
    for (float x : t->span<float>()) CHECK(x == 0.0f);
  }
  auto nf4 = Tensor::allocate(ir::DType::kNF4, {3, 5});
  REQUIRE(nf4.is_ok());
  CHECK(nf4->byte_size() == 8);  // 15 four-bit codes round up to 8 bytes
  auto f16 = Tensor::allocate(ir::DType::kF16, {7});
  REQUIRE(f16.is_ok());
  CHECK(f16->byte_size() == 14);
}

TEST_CASE("Tensor::allocate: an empty tensor still has a non-null pointer") {
  auto t = Tensor::allocate(ir::DType::kF32, {0, 5});
  REQUIRE(t.is_ok());
  CHECK(t->byte_size() == 0);
  CHECK(t->data() != nullptr);  // null marks an absent input in kernel views
}

TEST_CASE("Tensor::allocate: bad shapes and huge sizes are errors, not crashes") {
  auto negative = Tensor::allocate(ir::DType::kF32, {2, -1});
  REQUIRE_FALSE(negative.is_ok());
  CHECK(negative.status().code() == StatusCode::kInvalidArgument);
  CHECK(negative.status().message().find("[2, ?]") != std::string::npos);

  const int64_t big = std::numeric_limits<int64_t>::max() / 2;
  auto overflow = Tensor::allocate(ir::DType::kF32, {big, 4});
  REQUIRE_FALSE(overflow.is_ok());
  CHECK(overflow.status().message().find("too many elements") != std::string::npos);

  auto too_big = Tensor::allocate(ir::DType::kF32, {big});  // numel fits, bytes do not
  REQUIRE_FALSE(too_big.is_ok());

  // Fits in size_t but no machine has it: out of memory, reported.
  auto no_memory = Tensor::allocate(ir::DType::kU8, {int64_t{1} << 60});
  REQUIRE_FALSE(no_memory.is_ok());
  CHECK(no_memory.status().code() == StatusCode::kOutOfMemory);
}

TEST_CASE("Tensor: moves keep the data, views see it") {
  auto t = Tensor::allocate(ir::DType::kF32, {4});
  REQUIRE(t.is_ok());
  t->span<float>()[2] = 3.5f;
  Tensor moved = std::move(t).value();
  CHECK(moved.span<float>()[2] == 3.5f);
  const runtime::ConstTensorView v = std::as_const(moved).view();
  CHECK(v.as<float>()[2] == 3.5f);
  CHECK(v.numel() == 4);
  CHECK(v.present());
}

TEST_CASE("device_name") {
  CHECK(std::string(runtime::device_name(Device::kCpu)) == "cpu");
  CHECK(std::string(runtime::device_name(Device::kCuda)) == "cuda");
}

namespace {
runtime::KernelEntry entry(ir::OpKind op, Device device, std::string name, bool supported) {
  return {op, device, std::move(name),
          [supported](const ir::Graph&, const ir::Node&) { return supported; },
          [] { return std::unique_ptr<runtime::Kernel>(); }};
}
}  // namespace

TEST_CASE("KernelRegistry::find: first supporting entry for the op and device wins") {
  runtime::KernelRegistry registry;
  registry.add(entry(ir::OpKind::kRelu, Device::kCpu, "cpu.special.relu", false));
  registry.add(entry(ir::OpKind::kRelu, Device::kCuda, "cuda.relu", true));
  registry.add(entry(ir::OpKind::kRelu, Device::kCpu, "cpu.reference.relu", true));
  registry.add(entry(ir::OpKind::kRelu, Device::kCpu, "cpu.late.relu", true));
  CHECK(registry.entries().size() == 4);

  ir::Graph graph;
  ir::Node relu;
  relu.name = "r";
  relu.op = ir::OpKind::kRelu;
  const auto* cpu = registry.find(graph, relu, Device::kCpu);
  REQUIRE(cpu != nullptr);
  CHECK(cpu->name == "cpu.reference.relu");
  const auto* cuda = registry.find(graph, relu, Device::kCuda);
  REQUIRE(cuda != nullptr);
  CHECK(cuda->name == "cuda.relu");

  ir::Node add;
  add.op = ir::OpKind::kAdd;
  CHECK(registry.find(graph, add, Device::kCpu) == nullptr);
}
