// CPU-only build: the LU linear layer's CUDA entry points throw "built without CUDA". They are
// never reached with CPU tensors; LuLinear dispatches to its CPU loops first.
#include "host/cuda_stub/no_cuda.hpp"
#include "kernels/cuda_api.h"

namespace cusbi::cuda {
void lu_prepare(int64_t, const float*, const float*, const float*, float*, float*, float*) {
  no_cuda();
}
void lu_forward(int64_t, int64_t, const float*, const float*, const float*, const float*, float*,
                float*) {
  no_cuda();
}
void lu_inverse(int64_t, int64_t, const float*, const float*, const float*, const float*, float*,
                float*) {
  no_cuda();
}
void lu_backward(int64_t, int64_t, const float*, const float*, const float*, const float*,
                 const float*, const float*, float*, float*, float*, float*, float*, float*) {
  no_cuda();
}
}  // namespace cusbi::cuda
