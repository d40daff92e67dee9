// Wires the backends of this build into a kernel registry for the device a user asked for.
#pragma once

#include <string>

#include "ir/status.h"
#include "runtime/kernel_registry.h"

namespace qrt::tools {

// "cpu" or "cuda"; anything else is an error naming the value.
Result<runtime::Device> parse_device(const std::string& name);

// Fills `registry` for running on `device`: the device's kernels and its DeviceBackend (stream,
// arenas, CUDA graphs) first, then the CPU kernels (the fallback for nodes the device has no kernel
// for; a strict Session refuses to use them). Fails
// with "CUDA backend not available in this build" when built without CUDA, or "no CUDA device:
// ..." when no GPU is usable.
Status register_backends(runtime::Device device, runtime::KernelRegistry& registry);

}  // namespace qrt::tools
