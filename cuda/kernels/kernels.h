// The CUDA registry entries, one function per op file in cuda/kernels/ (called by
// cuda/register.cpp). Each adds kCuda entries named "cuda.<op>[.<precision>]".
#pragma once

#include "runtime/kernel_registry.h"

namespace qrt::cuda::kernels {

void register_linear_int8_dynamic_kernel(runtime::KernelRegistry& registry);
void register_linear_int8_static_kernel(runtime::KernelRegistry& registry);
void register_linear_weight_only_kernels(runtime::KernelRegistry& registry);  // w8a16, nf4
void register_linear_half_kernel(runtime::KernelRegistry& registry);          // fp16
void register_lstm_kernel(runtime::KernelRegistry& registry);
void register_layer_norm_kernel(runtime::KernelRegistry& registry);
void register_binary_kernels(runtime::KernelRegistry& registry);  // Add, Sub, Mul
void register_slice_kernel(runtime::KernelRegistry& registry);
void register_transpose_kernel(runtime::KernelRegistry& registry);
void register_reshape_kernel(runtime::KernelRegistry& registry);

}  // namespace qrt::cuda::kernels
