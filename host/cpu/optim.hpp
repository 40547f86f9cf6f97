// CPU twins of kernels/optim.cu: the Adam update over kernels/adam.h and the deterministic
// global L2 norm / clipping in the layout of kernels/reduce_norm.h (lanes, chunks, halving
// trees), so the norm is the same bits as the GPU's whatever the thread count. Same names and
// arguments as the cuda:: entry points of kernels/api/optim.h.
#pragma once
#include <cstdint>

#include "kernels/adam.h"

namespace cusbi::cpu {

void adam_step(float* params, const float* grads, float* exp_avg, float* exp_avg_sq, int64_t n,
               const kern::AdamScalars<float>& scalars);
double sum_of_squares(const float* x, int64_t n);
// Scales x by the clip coefficient; returns the norm before clipping (read_norm only matters on
// a GPU, where reading it synchronises).
float clip_grad_norm(float* x, int64_t n, float max_norm, bool read_norm);

}  // namespace cusbi::cpu
