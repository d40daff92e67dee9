#include "cuda/register.h"

#include "cuda/activation.cuh"
#include "cuda/kernels/kernels.h"

namespace qrt::cuda {

void register_cuda_kernels(runtime::KernelRegistry& registry) {
  register_activation_kernels(registry);
  kernels::register_linear_int8_dynamic_kernel(registry);
  kernels::register_linear_int8_static_kernel(registry);
  kernels::register_linear_weight_only_kernels(registry);
  kernels::register_linear_half_kernel(registry);
  kernels::register_lstm_kernel(registry);
  kernels::register_layer_norm_kernel(registry);
  kernels::register_binary_kernels(registry);
  kernels::register_slice_kernel(registry);
  kernels::register_transpose_kernel(registry);
  kernels::register_reshape_kernel(registry);
}

}  // namespace qrt::cuda
