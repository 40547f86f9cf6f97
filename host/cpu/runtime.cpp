// CPU twins of kernels/runtime.cu's fills. The random fills evaluate the counter-based Philox
// function of kernels/rng.h at (seed, offset + i), as the CUDA kernels do, in ranges on the pool:
// each element depends on its index only, so the result does not depend on the thread count.
#include "host/cpu/runtime.hpp"

#include "host/exec/thread_pool.hpp"
#include "kernels/rng.h"

namespace cusbi::cpu {

namespace {
// Below this many elements the loop runs on one thread (thread start-up costs more).
constexpr int64_t kParallelMin = 1 << 14;
}  // namespace

void fill(float* data, int64_t n, float value) {
  for (int64_t i = 0; i < n; ++i) data[i] = value;
}

void fill_uniform(float* out, int64_t n, uint64_t seed, uint64_t offset, float low, float high) {
  exec::parallel_range(n, n >= kParallelMin, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      out[i] = kern::philox_uniform_range(seed, 0, offset + static_cast<uint64_t>(i), low, high);
  });
}

void fill_normal(float* out, int64_t n, uint64_t seed, uint64_t offset) {
  exec::parallel_range(n, n >= kParallelMin, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      out[i] = kern::philox_normal(seed, 0, offset + static_cast<uint64_t>(i));
  });
}

}  // namespace cusbi::cpu
