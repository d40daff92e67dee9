#include "tools/backend.h"

#include "ops/register.h"
#if QRT_HAVE_CUDA
#include "cuda/cuda_backend.h"
#include "cuda/device.h"
#include "cuda/register.h"
#endif

namespace qrt::tools {

Result<runtime::Device> parse_device(const std::string& name) {
  if (name == "cpu") return runtime::Device::kCpu;
  if (name == "cuda") return runtime::Device::kCuda;
  return invalid_argument("unknown device '" + name + "' (expected cpu or cuda)");
}

Status register_backends(runtime::Device device, runtime::KernelRegistry& registry) {
  if (device == runtime::Device::kCuda) {
#if QRT_HAVE_CUDA
    // query_device's failure already reads "no CUDA device: <reason>".
    auto info = cuda::query_device();
    if (!info.is_ok()) return info.status();
    cuda::register_cuda_kernels(registry);
    cuda::register_cuda_backend(registry);
#else
    return unsupported("CUDA backend not available in this build (configure with nvcc on PATH)");
#endif
  }
  ops::register_cpu_kernels(registry);
  return Status::ok();
}

}  // namespace qrt::tools
