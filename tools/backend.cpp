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
    // describe_device's failure already reads "no CUDA device: <reason>" or names the build.
    QRT_RETURN_IF_ERROR(describe_device(device).status());
#if QRT_HAVE_CUDA
    cuda::register_cuda_kernels(registry);
    cuda::register_cuda_backend(registry);
#endif
  }
  ops::register_cpu_kernels(registry);
  return Status::ok();
}

Result<std::string> describe_device(runtime::Device device) {
  if (device == runtime::Device::kCpu) return std::string("cpu");
#if QRT_HAVE_CUDA
  QRT_ASSIGN_OR_RETURN(const cuda::DeviceInfo info, cuda::query_device());
  return info.summary();
#else
  return unsupported("CUDA backend not available in this build (configure with nvcc on PATH)");
#endif
}

}  // namespace qrt::tools
