// CPU-only build: NRE's device atom construction throws "built without CUDA". Never reached
// with CPU tensors: host/nre/atoms.cpp runs the CPU twins (host/cpu/atoms.hpp).
#include "kernels/api/atoms.h"

#include "host/cuda_stub/no_cuda.hpp"

namespace cusbi::cuda {
void contrasting_indices(int64_t, int64_t, uint64_t, uint64_t, int64_t*) { no_cuda(); }
void repeat_rows(const float*, int64_t, int64_t, int64_t, float*) { no_cuda(); }
}  // namespace cusbi::cuda
