// CUDA runtime entry points: devices, memory, copies, random fills. Pointers are device pointers
// unless named host_*. All work is queued on the device's one non-blocking stream (cuda::stream() in
// kernels/cuda_check.cuh); copies that touch host memory return when they are complete.
#pragma once
#include <cstddef>
#include <cstdint>

namespace cusbi::cuda {

enum class CopyKind { HostToDevice, DeviceToHost, DeviceToDevice };

bool built_with_cuda();
int device_count() noexcept;  // 0 without a driver or GPU; never throws
void set_device(int device);
void* allocate(std::size_t bytes, int device);
void release(void* pointer, int device) noexcept;
void copy(void* dst, const void* src, std::size_t bytes, CopyKind kind);
void fill(float* data, int64_t n, float value);
void synchronize(int device);

// out[i] = U[0,1) or N(0,1) number `offset + i` of Philox stream 0 keyed by `seed`
// (the same numbers as the CPU loop draws).
void fill_uniform(float* out, int64_t n, uint64_t seed, uint64_t offset, float low, float high);
void fill_normal(float* out, int64_t n, uint64_t seed, uint64_t offset);

}  // namespace cusbi::cuda
