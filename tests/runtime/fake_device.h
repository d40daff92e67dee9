// A DeviceBackend over host memory, so that Session placement, transfers and recording are tested
// without a GPU. "Device" and "pinned host" memory are separate aligned host allocations the
// backend tracks, so kernels and copies can check which side a pointer lives on. The stream is
// deferred like a real one: enqueued work (copies, kernels) runs only at synchronize(), so a
// session that reads a device result without synchronizing sees stale bytes.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/device_backend.h"
#include "runtime/kernel_registry.h"

namespace qrt::testing {

// What every backend made by one register_fake_device call did, for tests to check.
struct FakeDeviceLog {
  int backends = 0;
  int copies_to_device = 0;  // executed, replays included
  int copies_to_host = 0;
  int captures = 0;  // recordings begun
  int replays = 0;
  std::vector<std::string> recording;  // the work of the last finished recording, in order
  bool can_capture = true;             // what the backends answer to can_capture()
};

class FakeDeviceBackend final : public runtime::DeviceBackend {
 public:
  explicit FakeDeviceBackend(std::shared_ptr<FakeDeviceLog> log);
  ~FakeDeviceBackend() override;

  Result<void*> allocate_device(std::size_t bytes) override;
  void free_device(void* data) override;
  Result<void*> allocate_host(std::size_t bytes) override;
  void free_host(void* data) override;
  Status copy_to_device(void* device, const void* host, std::size_t bytes) override;
  Status copy_to_host(void* host, const void* device, std::size_t bytes) override;
  Status synchronize() override;
  void* stream() override { return this; }
  bool can_capture() const override { return log_->can_capture; }
  Status begin_capture() override;
  Status end_capture() override;
  Status replay() override;
  void discard_capture() override { recording_.clear(); }

  // For fake device kernels (RunContext::stream points at the backend): queue (or record) `work`,
  // named `what` in recordings; its failure is reported by the next synchronize().
  void enqueue(std::string what, std::function<Status()> work);
  // Whether [data, data + bytes) lies inside one live device allocation.
  bool holds_device_bytes(const void* data, std::size_t bytes) const;

 private:
  struct Work {
    std::string what;
    std::function<Status()> run;
  };
  struct Allocation {
    const std::byte* data;
    std::size_t bytes;
    bool device;
  };
  bool holds(const void* data, std::size_t bytes, bool device) const;

  std::shared_ptr<FakeDeviceLog> log_;
  std::vector<Allocation> allocations_;
  std::vector<Work> queue_;
  std::vector<Work> recording_;
  bool capturing_ = false;
};

// Sets `registry`'s kCuda device backend to FakeDeviceBackend; returns the log they all write.
std::shared_ptr<FakeDeviceLog> register_fake_device(runtime::KernelRegistry& registry);

}  // namespace qrt::testing
