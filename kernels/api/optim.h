// CUDA entry points of the optimiser: the Adam update and the deterministic global L2 norm /
// clipping. CUDA-free: host/optim/ includes it with g++. Pointers are device pointers on the
// current device (the caller sets it); work is queued on the device's stream (cuda::stream()).
#pragma once
#include <cstdint>

#include "kernels/adam.h"

namespace cusbi::cuda {

// One Adam step over n elements: params, exp_avg and exp_avg_sq updated in place.
void adam_step(float* params, const float* grads, float* exp_avg, float* exp_avg_sq, int64_t n,
               const kern::AdamScalars<float>& scalars);

// Sum of squares of x[0..n) in double, in the layout of kernels/reduce_norm.h (the same bits as
// the CPU twin). Synchronises to return the value.
double sum_of_squares(const float* x, int64_t n);

// Computes the norm, then scales x by the clip coefficient computed on the device (no host round
// trip before the scaling). With read_norm, returns the norm before clipping (synchronises);
// without it, returns NaN and leaves the device running ahead of the host.
float clip_grad_norm(float* x, int64_t n, float max_norm, bool read_norm);

}  // namespace cusbi::cuda
