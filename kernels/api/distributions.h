// CUDA entry points of the priors (BoxUniform, MultivariateNormal) and of ThetaTransform, and the
// transform vocabulary they share with the CPU loops. CUDA-free: host/distributions/ includes it
// with g++. Arrays are row-major (rows, dim) device pointers; per-dimension parameters are (dim,).
// Work is queued on the device's stream (cuda::stream()).
#pragma once
#include <cstdint>

namespace cusbi::kern {

// The per-element maps of ThetaTransform: Forward is theta -> z, Inverse z -> theta, Derivative
// d theta / d z at z. Sigmoid: theta = shift + scale * sigmoid(z); Affine: theta = shift + scale z.
enum class ThetaMap {
  SigmoidForward,
  SigmoidInverse,
  SigmoidDerivative,
  AffineForward,
  AffineInverse,
  AffineDerivative
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
// out (rows,): the Gaussian log-density by forward substitution; scratch: rows * dim doubles.
void mvn_log_prob(const float* theta, const float* mean, const float* scale_tril, int64_t rows,
                  int64_t dim, float log_normalizer, double* scratch, float* out);

// out[i] = map(in[i]) with shift[i % dim], scale[i % dim], for i < n.
void theta_map(kern::ThetaMap map, const float* in, const float* shift, const float* scale,
               int64_t n, int64_t dim, float* out);
// out (rows,): log|det d theta / d z| at z (rows, dim); sigmoid selects the map's kind.
void theta_log_det(bool sigmoid, const float* z, const float* scale, int64_t rows, int64_t dim,
                   float* out);

}  // namespace cusbi::cuda
