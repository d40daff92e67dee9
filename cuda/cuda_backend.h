// The CUDA implementation of runtime::DeviceBackend: one created stream per Session, its arenas
// from cudaMalloc (device) and cudaMallocHost (pinned host), copies with cudaMemcpyAsync, and the
// forward recorded by stream capture into a CUDA graph that is instantiated once and launched on
// every later run.
#pragma once

#include <memory>

#include "ir/status.h"
#include "runtime/device_backend.h"
#include "runtime/kernel_registry.h"

namespace qrt::cuda {

// A backend on the calling thread's current device. Fails with "no CUDA device: ..." when no
// device is usable, or with the CUDA error of the stream creation.
Result<std::unique_ptr<runtime::DeviceBackend>> create_cuda_backend();

// Makes create_cuda_backend the factory of `registry`'s kCuda sessions.
void register_cuda_backend(runtime::KernelRegistry& registry);

}  // namespace qrt::cuda
