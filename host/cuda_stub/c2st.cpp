// CPU-only build: the C2ST loss kernels throw "built without CUDA". Never reached with CPU
// tensors: host/metrics/ runs the CPU twins (host/cpu/c2st.hpp).
#include "kernels/api/c2st.h"

#include "host/cuda_stub/no_cuda.hpp"

namespace cusbi::cuda {
void c2st_bce_loss(const float*, const float*, int64_t, float, double, float*, double*) {
  no_cuda();
}
void c2st_l2_penalty(const float*, int64_t, float, double, float*, double*) { no_cuda(); }
}  // namespace cusbi::cuda
