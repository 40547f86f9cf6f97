// CPU-only build: the CUDA entry points of cumsum, transpose and bernoulli (see elementwise.cpp
// here for why stubs exist).
#include "host/cuda_stub/no_cuda.hpp"
#include "kernels/cuda_api.h"

namespace cusbi::cuda {
void cumsum_dim(const float*, int64_t, int64_t, int64_t, float*) { no_cuda(); }
void transpose_2d(const float*, int64_t, int64_t, float*) { no_cuda(); }
void fill_bernoulli(const float*, float*, int64_t, uint64_t, uint64_t) { no_cuda(); }
}  // namespace cusbi::cuda
