// CPU-only build: the CUDA entry points of the priors and ThetaTransform throw "built without
// CUDA". They are never reached with CPU tensors; each method dispatches on the device first.
#include "host/cuda_stub/no_cuda.hpp"
#include "kernels/cuda_api.h"

namespace cusbi::cuda {
void box_from_uniform(float*, const float*, const float*, int64_t, int64_t) { no_cuda(); }
void box_log_prob(const float*, const float*, const float*, int64_t, int64_t, float, float*) {
  no_cuda();
}
void box_support_mask(const float*, const float*, const float*, int64_t, int64_t, float*) {
  no_cuda();
}
void finite_rows_mask(const float*, int64_t, int64_t, float*) { no_cuda(); }
void mvn_sample(const float*, const float*, const float*, int64_t, int64_t, float*) { no_cuda(); }
void mvn_log_prob(const float*, const float*, const double*, int64_t, int64_t, float, float*) {
  no_cuda();
}
void mvn_log_prob_gradient(const float*, const float*, const double*, int64_t, int64_t, float*) {
  no_cuda();
}
void theta_map(kern::ThetaMap, const float*, const float*, const float*, int64_t, int64_t, float*) {
  no_cuda();
}
void theta_log_det(bool, const float*, const float*, int64_t, int64_t, float*) { no_cuda(); }
void support_select(const float*, int64_t, int64_t, float, float*, const float*, float*) {
  no_cuda();
}
void sum_trials(const float*, int64_t, int64_t, const float*, float*) { no_cuda(); }
void scaled_fma(const float*, const float*, const float*, float, int64_t, float*) { no_cuda(); }
}  // namespace cusbi::cuda
