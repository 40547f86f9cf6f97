// CUDA runtime glue: device queries, RAII-backing allocations, copies, fills, random fills, the
// per-device stream and cuBLAS handle, and the launch / host round-trip counters.
#include <cstdint>
#include <mutex>
#include <string>

#include "host/allocation_counter.hpp"
#include "kernels/cuda_api.h"
#include "kernels/cuda_check.cuh"
#include "kernels/rng.h"

namespace cusbi::cuda {

bool built_with_cuda() { return true; }

namespace detail {
std::atomic<int64_t> launch_count{0}, cublas_count{0}, host_sync_count{0};
}  // namespace detail

Counters counters() noexcept {
  return {detail::launch_count.load(std::memory_order_relaxed),
          detail::cublas_count.load(std::memory_order_relaxed),
          detail::host_sync_count.load(std::memory_order_relaxed)};
}

DeviceQuery query_devices() noexcept {
  DeviceQuery query;
  const cudaError_t status = cudaGetDeviceCount(&query.count);
  if (status == cudaSuccess && query.count > 0) return query;
  cudaGetLastError();  // clear the error so that later calls do not report it again
  query.count = 0;
  try {
    const std::string runtime =
        status == cudaSuccess
            ? std::string("cudaGetDeviceCount found 0 devices")
            : std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
    if (status == cudaSuccess || status == cudaErrorNoDevice)
      query.problem = "no CUDA GPU is visible on this machine (" + runtime +
                      "); check CUDA_VISIBLE_DEVICES if it has one";
    else if (status == cudaErrorInsufficientDriver)
      query.problem = "the NVIDIA driver is missing or too old for this build's CUDA runtime (" +
                      runtime + "); install or update the driver";
    else
      query.problem = "the CUDA runtime could not list the GPUs (" + runtime +
                      "); check the NVIDIA driver installation (nvidia-smi)";
  } catch (...) {  // out of memory while building a message: say at least that CUDA failed
    query.problem.clear();
  }
  return query;
}

void set_device(int device) { CUSBI_CUDA_CHECK(cudaSetDevice(device)); }

namespace {

// Tensor memory comes from the device's default memory pool, stream-ordered on the device's
// stream (cudaMallocAsync / cudaFreeAsync): freeing does not wait for the device as cudaFree
// does, and a freed block is reused by the next allocation of that stream, so temporaries of
// ops and user simulators cost no synchronisation. The pool keeps freed memory (release
// threshold: unlimited) instead of handing it back to the driver at every synchronisation.
void keep_pool_memory(int device) {
  static std::mutex mutex;
  static bool configured[64] = {};
  std::lock_guard<std::mutex> lock(mutex);
  if (device < 0 || device >= 64 || configured[device]) return;
  cudaMemPool_t pool;
  CUSBI_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, device));
  uint64_t threshold = UINT64_MAX;
  CUSBI_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold));
  configured[device] = true;
}

}  // namespace

void* allocate(std::size_t bytes, int device) {
  set_device(device);
  keep_pool_memory(device);
  void* pointer = nullptr;
  const cudaError_t status = cudaMallocAsync(&pointer, bytes, stream());
  if (status != cudaSuccess) {
    cudaGetLastError();
    CUSBI_FAIL("could not allocate " << bytes << " bytes on cuda:" << device << " ("
                                     << cudaGetErrorString(status)
                                     << "); use a smaller batch or free other GPU memory");
  }
  cusbi::detail::count_allocation();
  return pointer;
}

void release(void* pointer, int device) noexcept {
  if (pointer == nullptr) return;
  // Errors here cannot be reported: destructors never throw (stream() only throws when it
  // cannot create the stream, and then nothing was allocated on it).
  if (cudaSetDevice(device) != cudaSuccess) return;
  try {
    cudaFreeAsync(pointer, stream());
  } catch (...) {
  }
}

void copy(void* dst, const void* src, std::size_t bytes, CopyKind kind) {
  if (bytes == 0) return;
  const cudaMemcpyKind k = kind == CopyKind::HostToDevice   ? cudaMemcpyHostToDevice
                           : kind == CopyKind::DeviceToHost ? cudaMemcpyDeviceToHost
                                                            : cudaMemcpyDeviceToDevice;
  CUSBI_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, k, stream()));
  // Host memory is the caller's (may be freed or read on return, and may be pinned, where
  // cudaMemcpyAsync really is asynchronous): a copy that touches it is complete when this
  // returns. Device-to-device copies stay asynchronous on the stream.
  if (kind != CopyKind::DeviceToDevice) wait_for_stream();
}

void copy_between_devices(void* dst, int dst_device, const void* src, int src_device,
                          std::size_t bytes) {
  if (bytes == 0) return;
  // Each device has its own non-blocking stream, which do not order against each other: wait
  // for the source's pending writes, copy on the destination's stream, and wait for the copy
  // so that the source may be freed (on its own stream) as soon as this returns. Rare (moving
  // a model between GPUs), so two waits cost nothing that matters.
  set_device(src_device);
  wait_for_stream();
  set_device(dst_device);
  CUSBI_CUDA_CHECK(cudaMemcpyPeerAsync(dst, dst_device, src, src_device, bytes, stream()));
  wait_for_stream();
}

void wait_for_stream() {
  CUSBI_CUDA_CHECK(cudaStreamSynchronize(stream()));
  detail::host_sync_count.fetch_add(1, std::memory_order_relaxed);
}

__global__ void fill_kernel(float* data, int64_t n, float value) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    data[i] = value;
}

void fill(float* data, int64_t n, float value) {
  if (n == 0) return;
  fill_kernel<<<grid_for(n), kBlock, 0, stream()>>>(data, n, value);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void synchronize(int device) {
  set_device(device);
  wait_for_stream();
}

__global__ void fill_uniform_kernel(float* out, int64_t n, uint64_t seed, uint64_t offset,
                                    float low, float high) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    out[i] = kern::philox_uniform_range(seed, 0, offset + i, low, high);
}

__global__ void fill_normal_kernel(float* out, int64_t n, uint64_t seed, uint64_t offset) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    out[i] = kern::philox_normal(seed, 0, offset + i);
}

void fill_uniform(float* out, int64_t n, uint64_t seed, uint64_t offset, float low, float high) {
  if (n == 0) return;
  fill_uniform_kernel<<<grid_for(n), kBlock, 0, stream()>>>(out, n, seed, offset, low, high);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void fill_normal(float* out, int64_t n, uint64_t seed, uint64_t offset) {
  if (n == 0) return;
  fill_normal_kernel<<<grid_for(n), kBlock, 0, stream()>>>(out, n, seed, offset);
  CUSBI_CUDA_CHECK_LAUNCH();
}

namespace {
constexpr int kMaxDevices = 64;  // size of the per-device tables of stream() and cublas_handle()

int current_device() {
  int device = 0;
  CUSBI_CUDA_CHECK(cudaGetDevice(&device));
  CUSBI_CHECK(device >= 0 && device < kMaxDevices,
              "cuda:" << device << " is beyond the " << kMaxDevices << " GPUs cusbi supports");
  return device;
}
}  // namespace

cudaStream_t stream() {
  static cudaStream_t streams[kMaxDevices] = {};
  static std::mutex mutex;
  const int device = current_device();
  std::lock_guard<std::mutex> lock(mutex);
  if (streams[device] == nullptr) {
    // Non-blocking: no implicit synchronisation with the legacy default stream, so work that
    // other libraries (PyTorch) queue there is not serialised against ours, and our work can
    // be captured into a CUDA graph. Kept for the life of the process, like the cuBLAS handle.
    CUSBI_CUDA_CHECK(cudaStreamCreateWithFlags(&streams[device], cudaStreamNonBlocking));
  }
  return streams[device];
}

cublasHandle_t cublas_handle() {
  static cublasHandle_t handles[kMaxDevices] = {};
  static std::mutex mutex;
  const int device = current_device();
  std::lock_guard<std::mutex> lock(mutex);
  if (handles[device] == nullptr) {
    CUSBI_CUBLAS_CHECK(cublasCreate(&handles[device]));
    // Deterministic results: no split-K atomics inside cuBLAS, full fp32 (no TF32) math.
    CUSBI_CUBLAS_CHECK(cublasSetAtomicsMode(handles[device], CUBLAS_ATOMICS_NOT_ALLOWED));
    CUSBI_CUBLAS_CHECK(cublasSetMathMode(handles[device], CUBLAS_DEFAULT_MATH));
    CUSBI_CUBLAS_CHECK(cublasSetStream(handles[device], stream()));
  }
  return handles[device];
}

}  // namespace cusbi::cuda
