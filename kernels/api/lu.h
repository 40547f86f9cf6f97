// CUDA entry points of the LU linear layer (host/flows/lu_linear.hpp). CUDA-free, so host/
// includes it with g++. Device pointers on the current device (the caller sets it), row-major,
// float; work is queued on the device's stream (cuda::stream()), nothing synchronises or
// allocates. Each mirrors a CPU function of host/cpu/lu.cpp; the per-element math is
// kernels/lu.h.
#pragma once
#include <cstdint>

#include "kernels/lu.h"

namespace cusbi::cuda {

// Packed L\U (D, D), W = L U (D, D) and log|det| (1) from the parameters (one small kernel).
void lu_prepare(int64_t d, const float* lower, const float* upper, const float* diag, float* lu,
                float* w, float* logabsdet);

// y (B, D) = x W^T + b; logdet (B,) += *logabsdet unless logdet is null. y must not overlap x.
void lu_forward(int64_t rows, int64_t d, const float* w, const float* bias, const float* logabsdet,
                const float* x, float* y, float* logdet);

// x (B, D) = (L U)^{-1} (y - b) per row; logdet (B,) -= *logabsdet unless null. x may be y.
void lu_inverse(int64_t rows, int64_t d, const float* lu, const float* bias, const float* logabsdet,
                const float* y, float* x, float* logdet);

// Backward of lu_forward at input x for upstream dy (B, D) and dlogdet (B,) (null: none):
// accumulates the gradients of lower/upper entries, the unconstrained diagonal and the bias, and
// writes dx (B, D) = dy W. scratch: kern::lu_cuda_backward_scratch(B, D) floats.
void lu_backward(int64_t rows, int64_t d, const float* lu, const float* w, const float* diag,
                 const float* x, const float* dy, const float* dlogdet, float* g_lower,
                 float* g_upper, float* g_diag, float* g_bias, float* dx, float* scratch);

}  // namespace cusbi::cuda
