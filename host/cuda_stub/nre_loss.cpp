// CPU-only build: NRE's device losses throw "built without CUDA". Never reached with CPU
// tensors: host/nre/nre_loss.cpp runs the CPU twins (host/cpu/nre_loss.hpp).
#include "kernels/api/nre_loss.h"

#include "host/cuda_stub/no_cuda.hpp"

namespace cusbi::cuda {
void nre_b_loss(const float*, int64_t, int64_t, float*, float*) { no_cuda(); }
void bnre_loss(const float*, int64_t, float, float*, float*) { no_cuda(); }
void nre_c_loss(const float*, const float*, int64_t, int64_t, float, float*, float*, float*) {
  no_cuda();
}
}  // namespace cusbi::cuda
