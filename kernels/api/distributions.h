// CUDA entry points of the priors (BoxUniform, MultivariateNormal) and of ThetaTransform, and the
// transform vocabulary they share with the CPU loops. CUDA-free: host/distributions/ includes it
// with g++. Arrays are row-major (rows, dim) device pointers; per-dimension parameters are (dim,).
// Work is queued on the device's stream (cuda::stream()).
#pragma once
#include <cstdint>

namespace cusbi::kern {

// The per-element maps of ThetaTransform: Forward is theta -> z, Inverse z -> theta, Derivative
// d theta / d z at z, LogDetGradient d/dz log|d theta / d z| at z. Sigmoid: theta = shift +
// scale * sigmoid(z); Affine: theta = shift + scale z.
enum class ThetaMap {
  SigmoidForward,
  SigmoidInverse,
  SigmoidDerivative,
  AffineForward,
  AffineInverse,
  AffineDerivative,
  SigmoidLogDetGradient,
  AffineLogDetGradient
};

}  // namespace cusbi::kern

namespace cusbi::cuda {

// u (n,) in [0, 1), n a multiple of dim: u[i] <- low[d] + u[i] (high[d] - low[d]), d = i % dim,
// kept below high[d] (in place).
void box_from_uniform(float* u, const float* low, const float* high, int64_t n, int64_t dim);
// out (rows,): -log_volume where every entry of the row lies in [low, high), else -inf.
void box_log_prob(const float* theta, const float* low, const float* high, int64_t rows,
                  int64_t dim, float log_volume, float* out);
// out (rows,): 1 where every entry of the row lies in the closed box [low, high], else 0.
void box_support_mask(const float* theta, const float* low, const float* high, int64_t rows,
                      int64_t dim, float* out);
// out (rows,): 1 where every entry of the row is finite, else 0.
void finite_rows_mask(const float* theta, int64_t rows, int64_t dim, float* out);

// out (rows, dim) = mean + L z per row; scale_tril: L (dim, dim), lower triangular.
void mvn_sample(const float* z, const float* mean, const float* scale_tril, int64_t rows,
                int64_t dim, float* out);
// out (rows,): the Gaussian log-density; inv_tril: L^-1 (dim, dim) in double, on the device.
void mvn_log_prob(const float* theta, const float* mean, const double* inv_tril, int64_t rows,
                  int64_t dim, float log_normalizer, float* out);
// grad (rows, dim) = -Sigma^-1 (theta - mean); precision: Sigma^-1 (dim, dim) in double.
void mvn_log_prob_gradient(const float* theta, const float* mean, const double* precision,
                           int64_t rows, int64_t dim, float* grad);

// out[i] = map(in[i]) with shift[i % dim], scale[i % dim], for i < n.
void theta_map(kern::ThetaMap map, const float* in, const float* shift, const float* scale,
               int64_t n, int64_t dim, float* out);
// out (rows,): log|det d theta / d z| at z (rows, dim); sigmoid selects the map's kind.
void theta_log_det(bool sigmoid, const float* z, const float* scale, int64_t rows, int64_t dim,
                   float* out);

// Potentials (kern::support_select_row etc.). mask (rows,) 0/1; value (rows,) in place; grad_in
// and grad_out (rows, dim), may alias, both null for no gradient.
void support_select(const float* mask, int64_t rows, int64_t dim, float sign, float* value,
                    const float* grad_in, float* grad_out);
// out (cols,) = sum over trials of log_likelihood (trials, cols) + prior (cols,).
void sum_trials(const float* log_likelihood, int64_t trials, int64_t cols, const float* prior,
                float* out);
// out[i] = sign * (a[i] * b[i] + c[i]), i < n; b and c may be null; out may alias a.
void scaled_fma(const float* a, const float* b, const float* c, float sign, int64_t n, float* out);

}  // namespace cusbi::cuda
