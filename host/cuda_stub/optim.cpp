// CPU-only build: the optimiser's CUDA entry points. Never reached through the public API (a
// CUDA tensor cannot exist without CUDA), but defined so host/ links; each throws.
#include "host/cuda_stub/no_cuda.hpp"
#include "kernels/cuda_api.h"

namespace cusbi::cuda {
void adam_step(float*, const float*, float*, float*, int64_t, const kern::AdamScalars<float>&) {
  no_cuda();
}
double sum_of_squares(const float*, int64_t) { no_cuda(); }
float clip_grad_norm(float*, int64_t, float, bool) { no_cuda(); }
}  // namespace cusbi::cuda
