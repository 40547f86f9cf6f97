// CUDA runtime entry points: devices, memory, copies, random fills. Pointers are device pointers
// unless named host_*. All work is queued on the device's one non-blocking stream (cuda::stream()
// in kernels/cuda_check.cuh); copies that touch host memory return when they are complete.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace cusbi::cuda {

enum class CopyKind { HostToDevice, DeviceToHost, DeviceToDevice };

bool built_with_cuda();

// The CUDA runtime's answer to "how many GPUs?": count, and when it is 0 in a CUDA build, why,
// in words with the runtime's own error ("...(cudaErrorInsufficientDriver: ...)") and what to
// do, so that an old driver is not mistaken for a machine without a GPU. Empty `problem` when
// count > 0 (and in the CPU-only stub, whose reason device.cpp gives). Never throws.
struct DeviceQuery {
  int count = 0;
  std::string problem;
};
DeviceQuery query_devices() noexcept;
void set_device(int device);
void* allocate(std::size_t bytes, int device);
void release(void* pointer, int device) noexcept;
void copy(void* dst, const void* src, std::size_t bytes, CopyKind kind);
// Device memory of one GPU to another's; complete (and ordered after both devices' queued
// work) when it returns.
void copy_between_devices(void* dst, int dst_device, const void* src, int src_device,
                          std::size_t bytes);
void fill(float* data, int64_t n, float value);
void synchronize(int device);

// Process-wide counts of what cusbi asked of the GPU (all devices, all threads): kernel launches
// (each launch check, CUSBI_CUDA_CHECK_LAUNCH, counts one), cuBLAS calls, and host round-trips
// (each time the host waits for the device: copies that touch host memory, synchronize()).
// Zero in a CPU-only build. Read a difference around the code of interest.
struct Counters {
  int64_t launches = 0;
  int64_t cublas_calls = 0;
  int64_t host_syncs = 0;
};
Counters counters() noexcept;

// out[i] = U[0,1) or N(0,1) number `offset + i` of Philox stream 0 keyed by `seed`
// (the same numbers as the CPU loop draws).
void fill_uniform(float* out, int64_t n, uint64_t seed, uint64_t offset, float low, float high);
void fill_normal(float* out, int64_t n, uint64_t seed, uint64_t offset);

}  // namespace cusbi::cuda
