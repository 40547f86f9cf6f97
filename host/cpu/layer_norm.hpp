// CPU twin of kernels/layer_norm.cu (same contract as kernels/api/layer_norm.h): LayerNorm over
// the last dimension, one row at a time with the per-row math of kernels/layer_norm.h.
// Templated on the scalar: float in production, double in tests/gradcheck.
#pragma once
#include <cstdint>

#include "host/cpu/nn.hpp"
#include "kernels/layer_norm.h"

namespace cusbi::cpu {

template <class T>
void layer_norm_forward(int64_t rows, int64_t cols, const T* x, const T* gamma, const T* beta,
                        T eps, T* y, T* mean, T* rstd) {
  for_row_chunks(rows, cols, [=](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      const T* xr = x + i * cols;
      T s = T(0), q = T(0);
      for (int64_t j = 0; j < cols; ++j) s += xr[j];
      const T mu = s / T(cols);
      for (int64_t j = 0; j < cols; ++j) q += (xr[j] - mu) * (xr[j] - mu);
      const T r = kern::layer_norm_rstd(q, cols, eps);
      for (int64_t j = 0; j < cols; ++j)
        y[i * cols + j] = kern::layer_norm_element(xr[j], mu, r, gamma[j], beta[j]);
      mean[i] = mu;
      rstd[i] = r;
    }
  });
}

template <class T>
void layer_norm_backward(int64_t rows, int64_t cols, const T* dy, const T* x, const T* mean,
                         const T* rstd, const T* gamma, T* dx, T* dyxhat) {
  for_row_chunks(rows, cols, [=](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      const T mu = mean[i], r = rstd[i];
      const T* xr = x + i * cols;
      const T* dyr = dy + i * cols;
      T sg = T(0), sgx = T(0);
      for (int64_t j = 0; j < cols; ++j) {
        const T g = dyr[j] * gamma[j];
        sg += g;
        sgx += g * ((xr[j] - mu) * r);
      }
      const T mean_g = sg / T(cols), mean_gx = sgx / T(cols);
      for (int64_t j = 0; j < cols; ++j) {
        const T xhat = (xr[j] - mu) * r;
        dx[i * cols + j] =
            kern::layer_norm_grad_element(dyr[j] * gamma[j], xhat, r, mean_g, mean_gx);
        dyxhat[i * cols + j] = dyr[j] * xhat;
      }
    }
  });
}

}  // namespace cusbi::cpu
