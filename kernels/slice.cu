// The many-chain slice sampler on the GPU (kernels/api/slice.h): one thread per chain runs the
// state machine of kernels/slice.h. Chain state is structure-of-arrays, so a warp's threads read
// neighbouring words of each field. Event counts go to device integers (exact atomics); the host
// reads them every few iterations, never per iteration.
#include "kernels/api/slice.h"
#include "kernels/cuda_check.cuh"

namespace cusbi::cuda {

namespace {

__global__ void slice_start_kernel(kern::SliceSettings settings, kern::SliceChains chains,
                                   int64_t num_chains, const float* init, double init_width,
                                   uint64_t seed, uint64_t base) {
  const int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (c >= num_chains) return;
  chains.draws[c] = 0;
  kern::ChainRandom random{seed, base, static_cast<uint32_t>(c + 1), chains.draws + c};
  kern::slice_start(settings, chains, c, init + c * settings.dim, init_width, random);
}

__device__ void add_event(unsigned long long* counter, bool happened) {
  if (happened) atomicAdd(counter, 1ULL);
}

__global__ void slice_step_kernel(kern::SliceSettings settings, kern::SliceChains chains,
                                  int64_t num_chains, const float* lp, uint64_t seed, uint64_t base,
                                  int64_t* counters) {
  const int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (c >= num_chains) return;
  kern::ChainRandom random{seed, base, static_cast<uint32_t>(c + 1), chains.draws + c};
  const int32_t events = kern::slice_step(settings, chains, c, lp[c], random);
  if (events == 0) return;
  auto* count = reinterpret_cast<unsigned long long*>(counters);
  for (int e = 0; e < kern::kSliceCounters; ++e) add_event(count + e, (events >> e) & 1);
}

}  // namespace

void slice_start(const kern::SliceSettings& settings, const kern::SliceChains& chains,
                 int64_t num_chains, const float* init, double init_width, uint64_t seed,
                 uint64_t base) {
  if (num_chains == 0) return;
  slice_start_kernel<<<grid_for(num_chains), kBlock, 0, stream()>>>(settings, chains, num_chains,
                                                                    init, init_width, seed, base);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void slice_step(const kern::SliceSettings& settings, const kern::SliceChains& chains,
                int64_t num_chains, const float* lp, uint64_t seed, uint64_t base,
                int64_t* counters) {
  if (num_chains == 0) return;
  slice_step_kernel<<<grid_for(num_chains), kBlock, 0, stream()>>>(settings, chains, num_chains, lp,
                                                                   seed, base, counters);
  CUSBI_CUDA_CHECK_LAUNCH();
}

}  // namespace cusbi::cuda
