#include "tests/runtime/fake_device.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace qrt::testing {

FakeDeviceBackend::FakeDeviceBackend(std::shared_ptr<FakeDeviceLog> log) : log_(std::move(log)) {
  ++log_->backends;
}

FakeDeviceBackend::~FakeDeviceBackend() {
  for (const Allocation& a : allocations_) std::free(const_cast<std::byte*>(a.data));
}

namespace {

void* aligned(std::size_t alignment, std::size_t bytes) {
  return std::aligned_alloc(
      alignment, (std::max<std::size_t>(bytes, 1) + alignment - 1) / alignment * alignment);
}

}  // namespace

Result<void*> FakeDeviceBackend::allocate_device(std::size_t bytes) {
  void* data = aligned(256, bytes);
  if (data == nullptr) return out_of_memory("fake device: " + std::to_string(bytes) + " bytes");
  allocations_.push_back({static_cast<const std::byte*>(data), bytes, true});
  return data;
}

Result<void*> FakeDeviceBackend::allocate_host(std::size_t bytes) {
  void* data = aligned(64, bytes);
  if (data == nullptr) return out_of_memory("fake host: " + std::to_string(bytes) + " bytes");
  allocations_.push_back({static_cast<const std::byte*>(data), bytes, false});
  return data;
}

// Both sides are tracked host allocations; free_host finds either.
void FakeDeviceBackend::free_device(void* data) {
  free_host(data);
}

void FakeDeviceBackend::free_host(void* data) {
  const auto found = std::find_if(allocations_.begin(), allocations_.end(),
                                  [&](const Allocation& a) { return a.data == data; });
  if (found == allocations_.end()) return;
  std::free(data);
  allocations_.erase(found);
}

bool FakeDeviceBackend::holds(const void* data, std::size_t bytes, bool device) const {
  const auto* p = static_cast<const std::byte*>(data);
  return std::any_of(allocations_.begin(), allocations_.end(), [&](const Allocation& a) {
    return a.device == device && p >= a.data &&
           p + bytes <= a.data + std::max<std::size_t>(a.bytes, 1);
  });
}

bool FakeDeviceBackend::holds_device_bytes(const void* data, std::size_t bytes) const {
  return holds(data, bytes, true);
}

Status FakeDeviceBackend::copy_to_device(void* device, const void* host, std::size_t bytes) {
  if (!holds(device, bytes, true)) return invalid_argument("fake copy: destination not on device");
  if (!holds(host, bytes, false)) return invalid_argument("fake copy: source not pinned host");
  enqueue("copy to device", [this, device, host, bytes] {
    ++log_->copies_to_device;
    std::memcpy(device, host, bytes);
    return Status::ok();
  });
  return Status::ok();
}

Status FakeDeviceBackend::copy_to_host(void* host, const void* device, std::size_t bytes) {
  if (!holds(device, bytes, true)) return invalid_argument("fake copy: source not on device");
  enqueue("copy to host", [this, device, host, bytes] {
    ++log_->copies_to_host;
    std::memcpy(host, device, bytes);
    return Status::ok();
  });
  return Status::ok();
}

void FakeDeviceBackend::enqueue(std::string what, std::function<Status()> work) {
  (capturing_ ? recording_ : queue_).push_back({std::move(what), std::move(work)});
}

Status FakeDeviceBackend::synchronize() {
  if (capturing_) return internal_error("fake device: synchronize while recording");
  std::vector<Work> queued = std::move(queue_);
  queue_.clear();
  Status first_error = Status::ok();
  for (Work& w : queued) {
    Status s = w.run();
    if (first_error.is_ok() && !s.is_ok()) first_error = s.with_context(w.what);
  }
  return first_error;
}

Status FakeDeviceBackend::begin_capture() {
  if (capturing_) return internal_error("fake device: already recording");
  ++log_->captures;
  capturing_ = true;
  recording_.clear();
  return Status::ok();
}

Status FakeDeviceBackend::end_capture() {
  if (!capturing_) return internal_error("fake device: not recording");
  capturing_ = false;
  log_->recording.clear();
  for (const Work& w : recording_) log_->recording.push_back(w.what);
  return Status::ok();
}

Status FakeDeviceBackend::replay() {
  if (recording_.empty()) return internal_error("fake device: nothing recorded");
  ++log_->replays;
  queue_.insert(queue_.end(), recording_.begin(), recording_.end());
  return Status::ok();
}

std::shared_ptr<FakeDeviceLog> register_fake_device(runtime::KernelRegistry& registry) {
  auto log = std::make_shared<FakeDeviceLog>();
  registry.set_device_backend(
      runtime::Device::kCuda, [log]() -> Result<std::unique_ptr<runtime::DeviceBackend>> {
        return std::unique_ptr<runtime::DeviceBackend>(std::make_unique<FakeDeviceBackend>(log));
      });
  return log;
}

}  // namespace qrt::testing
