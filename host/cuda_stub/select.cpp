// CPU-only build: rejection sampling's device compaction throws "built without CUDA". Never
// reached with CPU tensors: host/posteriors/accepted_rows.cpp runs cpu::select_accepted.
#include "kernels/api/select.h"

#include "host/cuda_stub/no_cuda.hpp"

namespace cusbi::cuda {
void select_accepted(int64_t, int64_t, int64_t, const float*, const float*, const int64_t*, int64_t,
                     int64_t, int64_t*, float*, int64_t*) {
  no_cuda();
}
}  // namespace cusbi::cuda
