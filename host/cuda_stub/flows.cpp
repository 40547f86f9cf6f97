// CPU-only build: the CUDA entry points of the neural spline flow throw "built without CUDA".
// They are never reached with CPU tensors; the flow picks the CPU executor first.
#include "host/cuda_stub/no_cuda.hpp"
#include "kernels/cuda_api.h"

namespace cusbi::cuda {
void flows_rows_affine(int64_t, int64_t, kern::RowMap, const float*, const float*, const float*,
                       float*) {
  no_cuda();
}
void flows_gather_identity(int64_t, int64_t, int, const float*, float*) { no_cuda(); }
void flows_scatter_add_identity(int64_t, int64_t, int, const float*, float*) { no_cuda(); }
void flows_coupling_forward(const kern::CouplingArgs<float>&, float*, float*, float*) { no_cuda(); }
void flows_coupling_inverse(const kern::CouplingArgs<float>&, float*) { no_cuda(); }
void flows_coupling_backward(const kern::CouplingArgs<float>&, const float*, const float*, float*,
                             float*) {
  no_cuda();
}
void flows_base_log_prob(int64_t, int64_t, const float*, const float*, float, float, float*) {
  no_cuda();
}
void flows_loss_grad(int64_t, int64_t, const float*, const float*, float*, float*) { no_cuda(); }
}  // namespace cusbi::cuda
