# qrt_bench_cuda: every GPU benchmark table in one program (bench_cuda_main.cpp); included from
# tools/bench/CMakeLists.txt when the CUDA backend is built. scripts/gpu-bench.sh runs it.
add_executable(qrt_bench_cuda bench_cuda_main.cpp bench_cuda_gemm.cpp bench_cuda_lstm.cpp
                              model_bench.cpp)
target_link_libraries(qrt_bench_cuda PRIVATE qrt_cuda qrt_backends qrt_ops qrt_passes qrt_runtime
                                             qrt_ir)
