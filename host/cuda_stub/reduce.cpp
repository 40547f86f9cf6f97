// CPU-only build: the CUDA entry points of the reductions. Unreachable in practice (no CUDA
// tensor can be created without CUDA), but they keep the link complete and fail loudly.
#include "kernels/api/reduce.h"

#include "host/cuda_stub/no_cuda.hpp"

namespace cusbi::cuda {
void reduce_dim(kern::ReduceOp, const float*, int64_t, int64_t, int64_t, float*) { no_cuda(); }
double reduce_sum_all(const float*, int64_t) { no_cuda(); }
bool all_finite(const float*, int64_t) { no_cuda(); }
}  // namespace cusbi::cuda
