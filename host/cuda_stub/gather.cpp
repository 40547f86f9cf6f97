// CPU-only build: the CUDA entry point of the row gather. Unreachable in practice (no CUDA
// tensor exists without CUDA), but it keeps the link complete and fails loudly.
#include "host/cuda_stub/no_cuda.hpp"
#include "kernels/cuda_api.h"

namespace cusbi::cuda {
void take_rows(const float*, int64_t, int64_t, const int64_t*, int64_t, float*) { no_cuda(); }
}  // namespace cusbi::cuda
