// CPU-only build: the CUDA entry points of the network building blocks throw "built without
// CUDA". They are never reached with CPU tensors; dispatch picks the CPU executor first.
#include "host/cuda_stub/no_cuda.hpp"
#include "kernels/cuda_api.h"

namespace cusbi::cuda {
void nn_gemm(bool, bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t,
             float, float*, int64_t) {
  no_cuda();
}
void nn_bias_act(kern::BiasAct, int64_t, int64_t, float*, const float*, float*) { no_cuda(); }
void nn_gate_forward(int64_t, int64_t, float*, const float*, const float*, float*, const float*,
                     float*) {
  no_cuda();
}
void nn_gate_backward(int64_t, int64_t, float*, const float*, const float*, const float*,
                      const float*, const float*, float*, float*, float*, float*, float*) {
  no_cuda();
}
void nn_relu_backward_colsum(int64_t, int64_t, float*, const float*, float*, float*) { no_cuda(); }
void nn_colsum(int64_t, int64_t, const float*, float*, float*) { no_cuda(); }
void nn_relu(int64_t, const float*, float*) { no_cuda(); }
void nn_relu_backward(int64_t, const float*, const float*, float*) { no_cuda(); }
void nn_standardize(kern::StandardizeMode, int64_t, int64_t, const float*, const float*,
                    const float*, float*) {
  no_cuda();
}
}  // namespace cusbi::cuda
