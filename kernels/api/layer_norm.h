// CUDA entry points of LayerNorm over the last dimension (the MLP classifier's norm layer,
// host/classifiers/). Device pointers, row-major (rows, cols) float; each mirrors the CPU twin
// of the same name in host/cpu/layer_norm.hpp, with the per-row math of kernels/layer_norm.h.
#pragma once
#include <cstdint>

namespace cusbi::cuda {

// y = LayerNorm(x) * gamma + beta per row; mean and rstd (rows,) keep the row statistics for
// the backward. y must not overlap x.
void layer_norm_forward(int64_t rows, int64_t cols, const float* x, const float* gamma,
                        const float* beta, float eps, float* y, float* mean, float* rstd);
// For dy (rows, cols): dx (overwritten) and dyxhat = dy * xhat (rows, cols), whose column sum
// is gamma's gradient (dy's is beta's); the caller reduces both deterministically.
void layer_norm_backward(int64_t rows, int64_t cols, const float* dy, const float* x,
                         const float* mean, const float* rstd, const float* gamma, float* dx,
                         float* dyxhat);

}  // namespace cusbi::cuda
