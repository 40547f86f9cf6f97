// CPU-only build: runtime entry points. Queries answer "no GPU"; everything else throws.
#include "host/cuda_stub/no_cuda.hpp"
#include "kernels/cuda_api.h"

namespace cusbi::cuda {
bool built_with_cuda() { return false; }
DeviceQuery query_devices() noexcept { return {}; }  // device.cpp says "built without CUDA"
Counters counters() noexcept { return {}; }
void set_device(int) { no_cuda(); }
void* allocate(std::size_t, int) { no_cuda(); }
void release(void*, int) noexcept {}
void copy(void*, const void*, std::size_t, CopyKind) { no_cuda(); }
void copy_between_devices(void*, int, const void*, int, std::size_t) { no_cuda(); }
void fill(float*, int64_t, float) { no_cuda(); }
void synchronize(int) { no_cuda(); }
void fill_uniform(float*, int64_t, uint64_t, uint64_t, float, float) { no_cuda(); }
void fill_normal(float*, int64_t, uint64_t, uint64_t) { no_cuda(); }
}  // namespace cusbi::cuda
