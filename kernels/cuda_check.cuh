// Checked CUDA / cuBLAS calls for the .cu files: every runtime call and every launch goes through
// these, turning failures into cusbi::Error with the call, file and line. Launch checks
// synchronise in debug builds (CUSBI_DEBUG_SYNC) so an asynchronous fault points at its kernel.
// Launches, cuBLAS compute calls and host waits are counted (cuda::counters(), api/runtime.h).
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <atomic>
#include <cstdint>

#include "cusbi/error.hpp"

#define CUSBI_CUDA_CHECK(expr)                                                         \
  do {                                                                                 \
    const cudaError_t cusbi_status_ = (expr);                                          \
    if (cusbi_status_ != cudaSuccess)                                                  \
      CUSBI_FAIL("CUDA call " #expr " failed: " << cudaGetErrorString(cusbi_status_)); \
  } while (0)

namespace cusbi::cuda::detail {
// The counters behind cuda::counters(); relaxed atomics: a count, not a synchronisation.
extern std::atomic<int64_t> launch_count, cublas_count, host_sync_count;
}  // namespace cusbi::cuda::detail

#define CUSBI_CUBLAS_CHECK(expr)                                                            \
  do {                                                                                      \
    const cublasStatus_t cusbi_status_ = (expr);                                            \
    if (cusbi_status_ != CUBLAS_STATUS_SUCCESS)                                             \
      CUSBI_FAIL("cuBLAS call " #expr " failed: " << cublasGetStatusString(cusbi_status_)); \
  } while (0)

// A cuBLAS call that queues work (a GEMM), as opposed to handle set-up: checked and counted.
#define CUSBI_CUBLAS_LAUNCH(expr)                                                \
  do {                                                                           \
    CUSBI_CUBLAS_CHECK(expr);                                                    \
    ::cusbi::cuda::detail::cublas_count.fetch_add(1, std::memory_order_relaxed); \
  } while (0)

// After every kernel launch. The debug build's device-wide wait is not counted as a host
// round-trip: it exists only to locate faults and release builds do not make it.
#if defined(CUSBI_DEBUG_SYNC) || !defined(NDEBUG)
#define CUSBI_CUDA_CHECK_LAUNCH()                                                \
  do {                                                                           \
    ::cusbi::cuda::detail::launch_count.fetch_add(1, std::memory_order_relaxed); \
    CUSBI_CUDA_CHECK(cudaGetLastError());                                        \
    CUSBI_CUDA_CHECK(cudaDeviceSynchronize());                                   \
  } while (0)
#else
#define CUSBI_CUDA_CHECK_LAUNCH()                                                \
  do {                                                                           \
    ::cusbi::cuda::detail::launch_count.fetch_add(1, std::memory_order_relaxed); \
    CUSBI_CUDA_CHECK(cudaGetLastError());                                        \
  } while (0)
#endif

namespace cusbi::cuda {
// Threads per block for simple elementwise kernels, and a grid for n elements.
constexpr int kBlock = 256;
inline unsigned grid_for(long long n) {
  const long long blocks = (n + kBlock - 1) / kBlock;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 2147483647LL ? 2147483647LL : blocks));
}
// The current device's one stream (non-blocking, created on first use, kept for the process):
// every kernel, copy, allocation and cuBLAS call of cusbi is queued on it.
cudaStream_t stream();
// Waits on the host until stream() has finished its queued work: the one way .cu files wait for
// the device, so that every host round-trip is counted.
void wait_for_stream();
// The cuBLAS handle of the current device (created on first use, kept for the process), bound
// to stream().
cublasHandle_t cublas_handle();
}  // namespace cusbi::cuda
