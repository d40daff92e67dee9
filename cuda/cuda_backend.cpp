#include "cuda/cuda_backend.h"

#include <cuda_runtime_api.h>

#include <string>

#include "cuda/cuda_status.h"
#include "cuda/device.h"

namespace qrt::cuda {

namespace {

// The Status of a failed allocation, naming the bytes asked for (kOutOfMemory when the device or
// the pinned pool is full).
Status allocation_failed(cudaError_t error, const char* call, std::size_t bytes) {
  (void)cudaGetLastError();  // reported through the Status
  return cuda_status(error, (std::string(call) + "(" + std::to_string(bytes) + " bytes)").c_str(),
                     __FILE__, __LINE__);
}

class CudaBackend final : public runtime::DeviceBackend {
 public:
  explicit CudaBackend(cudaStream_t stream) : stream_(stream) {}
  ~CudaBackend() override {
    // Errors cannot leave a destructor; a sticky one is reported by every later call anyway.
    (void)cudaStreamSynchronize(stream_);
    discard_capture();
    (void)cudaStreamDestroy(stream_);
  }
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  Result<void*> allocate_device(std::size_t bytes) override {
    void* data = nullptr;
    const cudaError_t error = cudaMalloc(&data, bytes);
    if (error != cudaSuccess) return allocation_failed(error, "cudaMalloc", bytes);
    return data;
  }
  void free_device(void* data) override { (void)cudaFree(data); }

  Result<void*> allocate_host(std::size_t bytes) override {
    void* data = nullptr;
    const cudaError_t error = cudaMallocHost(&data, bytes);
    if (error != cudaSuccess) return allocation_failed(error, "cudaMallocHost", bytes);
    return data;
  }
  void free_host(void* data) override { (void)cudaFreeHost(data); }

  Status copy_to_device(void* device, const void* host, std::size_t bytes) override {
    QRT_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, stream_));
    return Status::ok();
  }
  Status copy_to_host(void* host, const void* device, std::size_t bytes) override {
    QRT_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, stream_));
    return Status::ok();
  }
  Status synchronize() override {
    QRT_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
    return Status::ok();
  }
  void* stream() override { return stream_; }

  bool can_capture() const override { return true; }
  Status begin_capture() override {
    // Thread-local mode: other threads' sessions keep running; this thread may not call unsafe
    // APIs (cudaMalloc, synchronization) while recording, which a capturable kernel never does.
    QRT_CUDA_RETURN_IF_ERROR(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
    return Status::ok();
  }
  Status end_capture() override {
    discard_capture();
    cudaGraph_t graph = nullptr;
    // Fails (cudaErrorStreamCaptureInvalidated) when a call during the recording broke it.
    QRT_CUDA_RETURN_IF_ERROR(cudaStreamEndCapture(stream_, &graph));
    const cudaError_t instantiated = cudaGraphInstantiate(&exec_, graph, 0);
    (void)cudaGraphDestroy(graph);  // the executable graph is independent of it
    if (instantiated != cudaSuccess) exec_ = nullptr;
    QRT_CUDA_RETURN_IF_ERROR(instantiated);
    return Status::ok();
  }
  Status replay() override {
    if (exec_ == nullptr) return internal_error("CUDA backend: replay without a recording");
    QRT_CUDA_RETURN_IF_ERROR(cudaGraphLaunch(exec_, stream_));
    return Status::ok();
  }
  void discard_capture() override {
    if (exec_ != nullptr) (void)cudaGraphExecDestroy(exec_);
    exec_ = nullptr;
  }

 private:
  cudaStream_t stream_;
  cudaGraphExec_t exec_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<runtime::DeviceBackend>> create_cuda_backend() {
  QRT_RETURN_IF_ERROR(query_current_device().status());
  cudaStream_t stream = nullptr;
  // Non-blocking: the session's work does not serialize against the legacy default stream.
  QRT_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  return std::unique_ptr<runtime::DeviceBackend>(std::make_unique<CudaBackend>(stream));
}

void register_cuda_backend(runtime::KernelRegistry& registry) {
  registry.set_device_backend(runtime::Device::kCuda, create_cuda_backend);
}

}  // namespace qrt::cuda
