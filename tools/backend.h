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

// One line naming the hardware `device` runs on: "cpu" or the GPU's summary ("NVIDIA H100 80GB
// HBM3 (sm_90, 132 SMs, ...)"). Fails like register_backends when `device` cannot be used, so a
// caller can ask first and fall back to the CPU with the reason.
Result<std::string> describe_device(runtime::Device device);

}  // namespace qrt::tools
