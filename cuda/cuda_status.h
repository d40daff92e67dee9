// CUDA runtime errors as qrt Status values.
//
// Every CUDA runtime call in qrt goes through QRT_CUDA_RETURN_IF_ERROR, so a failure reaches the
// caller as a Status naming the call site and the failing expression, e.g.
//   "cuda/activation.cu:120: cudaMemcpyAsync(...) failed: cudaErrorInvalidValue (invalid argument)"
// instead of being lost or aborting. Header-only so that .cpp and .cu files, and tests, share it.
#pragma once

#include <cuda_runtime_api.h>

#include <string>

#include "ir/status.h"

namespace qrt::cuda {

// The Status for `error` raised by `expression` at `file`:`line`: ok for cudaSuccess, kOutOfMemory
// for cudaErrorMemoryAllocation (callers may retry with a smaller workspace), kDeviceError
// otherwise. cudaGetErrorName/cudaGetErrorString are plain table look-ups in the runtime library:
// they work without a driver or a device, which keeps this usable on machines without a GPU.
inline Status cuda_status(cudaError_t error, const char* expression, const char* file, int line) {
  if (error == cudaSuccess) return Status::ok();
  std::string message = std::string(file) + ":" + std::to_string(line) + ": " + expression +
                        " failed: " + cudaGetErrorName(error) + " (" + cudaGetErrorString(error) +
                        ")";
  const StatusCode code =
      error == cudaErrorMemoryAllocation ? StatusCode::kOutOfMemory : StatusCode::kDeviceError;
  return Status(code, std::move(message));
}

}  // namespace qrt::cuda

// Evaluates `expr` (a cudaError_t) once and returns a Status from the enclosing function when it is
// not cudaSuccess. The enclosing function returns Status or a Result<T>. The runtime also records a
// failed call as its "last error"; it is cleared here (cudaGetLastError) because the error is now
// reported through the Status, and a stale one would otherwise be blamed on the next kernel launch.
// Sticky errors (a faulting kernel) stay: every later call reports them again.
#define QRT_CUDA_RETURN_IF_ERROR(expr)                                             \
  do {                                                                             \
    const cudaError_t qrt_cuda_error_ = (expr);                                    \
    if (qrt_cuda_error_ != cudaSuccess) {                                          \
      (void)cudaGetLastError();                                                    \
      return ::qrt::cuda::cuda_status(qrt_cuda_error_, #expr, __FILE__, __LINE__); \
    }                                                                              \
  } while (0)
