// CPU-only build: LayerNorm's CUDA entry points throw "built without CUDA". Never reached with
// CPU tensors: the classifiers run host/cpu/layer_norm.hpp there.
#include "kernels/api/layer_norm.h"

#include "host/cuda_stub/no_cuda.hpp"

namespace cusbi::cuda {
void layer_norm_forward(int64_t, int64_t, const float*, const float*, const float*, float, float*,
                        float*, float*) {
  no_cuda();
}
void layer_norm_backward(int64_t, int64_t, const float*, const float*, const float*, const float*,
                         const float*, float*, float*) {
  no_cuda();
}
}  // namespace cusbi::cuda
