#include "cuda/register.h"

#include "cuda/activation.cuh"

namespace qrt::cuda {

void register_cuda_kernels(runtime::KernelRegistry& registry) {
  register_activation_kernels(registry);
}

}  // namespace qrt::cuda
