// CPU-only build: the CUDA entry points of the elementwise op set. Unreachable in practice (no
// CUDA tensor can be created without CUDA), but they keep the link complete and fail loudly.
#include "host/cuda_stub/no_cuda.hpp"
#include "kernels/cuda_api.h"

namespace cusbi::cuda {
void elementwise_binary(kern::BinaryOp, const float*, int64_t, const float*, int64_t, float*,
                        int64_t) {
  no_cuda();
}
void elementwise_binary_broadcast(kern::BinaryOp, const float*, const float*,
                                  const kern::BroadcastPlan&, float*, int64_t) {
  no_cuda();
}
void elementwise_binary_scalar(kern::BinaryOp, const float*, float, bool, float*, int64_t) {
  no_cuda();
}
void elementwise_unary(kern::UnaryOp, const float*, float*, int64_t) { no_cuda(); }
void elementwise_where(const float*, const float*, float, const kern::BroadcastPlan&, float*,
                       int64_t) {
  no_cuda();
}
void elementwise_where3(const float*, const float*, float, const float*, float,
                        const kern::WherePlan&, float*, int64_t) {
  no_cuda();
}
void copy_2d(float*, int64_t, const float*, int64_t, int64_t, int64_t) { no_cuda(); }
}  // namespace cusbi::cuda
