// What a Session needs from a device (the CUDA backend, or a host-memory stand-in in tests) to run
// kernels there: memory for its arenas, copies between host and device on one stream, and the
// recording and replaying of that stream's work (CUDA graphs). The runtime sees only this interface
// and opaque pointers; it never includes a backend's headers.
//
// One object per Session, created by the factory registered for the device
// (KernelRegistry::set_device_backend). It owns the session's stream and its captured work, and
// outlives every allocation it handed out. Used by one thread at a time, like the Session.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "ir/status.h"

namespace qrt::runtime {

class DeviceBackend {
 public:
  virtual ~DeviceBackend() = default;

  // Device memory (256-byte aligned) for the session's device arena. Fails with kOutOfMemory naming
  // the bytes asked for.
  virtual Result<void*> allocate_device(std::size_t bytes) = 0;
  virtual void free_device(void* data) = 0;
  // Host memory the device copies from and to asynchronously (pinned for CUDA, 64-byte aligned):
  // the host arena of a session that has device steps, so that every transfer it records keeps a
  // fixed, copyable source and destination.
  virtual Result<void*> allocate_host(std::size_t bytes) = 0;
  virtual void free_host(void* data) = 0;

  // Enqueued on the stream, asynchronous to the host; `host` is memory from allocate_host.
  virtual Status copy_to_device(void* device, const void* host, std::size_t bytes) = 0;
  virtual Status copy_to_host(void* host, const void* device, std::size_t bytes) = 0;
  // Waits for everything enqueued so far and reports an error raised by it.
  virtual Status synchronize() = 0;
  // The handle device kernels enqueue on (RunContext::stream; a cudaStream_t for CUDA).
  virtual void* stream() = 0;

  // Recording: between begin_capture and end_capture the stream's work (copies and kernels) is
  // recorded instead of run; end_capture keeps the recording (replacing an earlier one) and fails
  // when something enqueued could not be recorded. replay enqueues the recorded work again, with
  // the same pointers. Only called when can_capture() is true.
  virtual bool can_capture() const = 0;
  virtual Status begin_capture() = 0;
  virtual Status end_capture() = 0;
  virtual Status replay() = 0;
  // Drops the recording (its pointers are about to change).
  virtual void discard_capture() = 0;
};

// Makes the backend of one Session; fails (e.g. "no CUDA device: ...") when the device is unusable.
using DeviceBackendFactory = std::function<Result<std::unique_ptr<DeviceBackend>>()>;

}  // namespace qrt::runtime
