// Per-row math of torch.nn.LayerNorm over the last dimension (biased variance, eps inside the
// square root, elementwise affine), written once for the CUDA kernels (kernels/layer_norm.cu)
// and the CPU twin (host/cpu/layer_norm.hpp, float and double). The row sums are the callers'
// (a warp tree on the GPU, a loop on the CPU); everything after them is here.
#pragma once
#include <cstdint>

#include "kernels/common.h"

namespace cusbi::kern {

constexpr float kLayerNormEps = 1e-5f;  // torch.nn.LayerNorm's default, as sbi uses it

// 1 / sqrt(var + eps) from the sum of squared deviations of a row of n entries (two-pass
// variance: stable where E[x^2] - E[x]^2 would cancel).
template <typename T>
CUSBI_HD T layer_norm_rstd(T sum_sq_dev, int64_t n, T eps) {
  return T(1) / sqrt(sum_sq_dev / T(n) + eps);
}

// y = (x - mean) * rstd * gamma + beta, as torch computes it.
template <typename T>
CUSBI_HD T layer_norm_element(T x, T mean, T rstd, T gamma, T beta) {
  return (x - mean) * rstd * gamma + beta;
}

// Backward of one element: with g = dy * gamma and xhat = (x - mean) * rstd over the row,
// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)); mean_g and mean_gx are those row means.
template <typename T>
CUSBI_HD T layer_norm_grad_element(T g, T xhat, T rstd, T mean_g, T mean_gx) {
  return rstd * (g - mean_g - xhat * mean_gx);
}

}  // namespace cusbi::kern
