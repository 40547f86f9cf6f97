// CPU-only build: the slice sampler's CUDA entry points throw "built without CUDA". Never
// reached with CPU tensors: host/mcmc/slice_run.cpp runs the cpu:: twins.
#include "kernels/api/slice.h"

#include "host/cuda_stub/no_cuda.hpp"

namespace cusbi::cuda {
void slice_start(const kern::SliceSettings&, const kern::SliceChains&, int64_t, const float*,
                 double, uint64_t, uint64_t) {
  no_cuda();
}
void slice_step(const kern::SliceSettings&, const kern::SliceChains&, int64_t, const float*,
                uint64_t, uint64_t, int64_t*) {
  no_cuda();
}
}  // namespace cusbi::cuda
