// Per-row and per-element math of the priors and of ThetaTransform, written once for the CPU
// loops (host/distributions/) and the CUDA kernels (kernels/distributions.cu). Products that
// feed a sum use explicit fma, so whether g++ (-march with FMA) or nvcc contract a*b+c does not
// matter: both devices round the same way and agree to the bit or nearly. Conventions follow
// torch: box log_prob is half-open, the support check closed, the sigmoid clipped as
// torch.distributions.transforms.SigmoidTransform clips it.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/api/distributions.h"
#include "kernels/common.h"

namespace cusbi::kern {

template <typename T>
CUSBI_HD T neg_infinity() {
  return -std::numeric_limits<T>::infinity();
}

// False for NaN and +-inf (comparisons with NaN are false), without isfinite, whose host and
// device overloads differ.
template <typename T>
CUSBI_HD bool is_finite_value(T x) {
  return fabs(x) <= std::numeric_limits<T>::max();
}

// The largest value below x (global nextafter: the C library's on the host, CUDA's on the device).
CUSBI_HD float next_below(float x) { return ::nextafterf(x, neg_infinity<float>()); }
CUSBI_HD double next_below(double x) { return ::nextafter(x, neg_infinity<double>()); }

// ---- BoxUniform --------------------------------------------------------------------------------

// low + u (high - low) for u in [0, 1), as torch's Uniform.rsample. Rounding can still land on
// high (e.g. low = 1000, high = 1001), where log_prob is -inf: such a draw becomes the largest
// value below high, so every sample lies in [low, high).
template <typename T>
CUSBI_HD T box_from_uniform(T u, T low, T high) {
  const T v = fma(high - low, u, low);
  return v < high ? v : next_below(high);
}

// -log_volume when low <= theta_d < high in every dimension, else -inf (NaN fails both tests).
template <typename T>
CUSBI_HD T box_log_prob_row(const T* theta, const T* low, const T* high, int64_t dim,
                            T log_volume) {
  bool inside = true;
  for (int64_t d = 0; d < dim; ++d) inside = inside && low[d] <= theta[d] && theta[d] < high[d];
  return inside ? -log_volume : neg_infinity<T>();
}

// 1 when low <= theta_d <= high in every dimension (sbi's closed support check), else 0.
template <typename T>
CUSBI_HD T box_support_row(const T* theta, const T* low, const T* high, int64_t dim) {
  bool inside = true;
  for (int64_t d = 0; d < dim; ++d) inside = inside && low[d] <= theta[d] && theta[d] <= high[d];
  return inside ? T(1) : T(0);
}

template <typename T>
CUSBI_HD T finite_row(const T* theta, int64_t dim) {
  bool finite = true;
  for (int64_t d = 0; d < dim; ++d) finite = finite && is_finite_value(theta[d]);
  return finite ? T(1) : T(0);
}

// ---- MultivariateNormal ------------------------------------------------------------------------

// theta_i = mean_i + sum_{j <= i} L_ij z_j for one row, accumulated in double (D is small, and
// a sum of D products in float would drift from the host's order-independent reference).
template <typename T>
CUSBI_HD void mvn_sample_row(const T* z, const T* mean, const T* scale_tril, int64_t dim, T* out) {
  for (int64_t i = 0; i < dim; ++i) {
    double acc = 0.0;
    for (int64_t j = 0; j <= i; ++j)
      acc = fma(static_cast<double>(scale_tril[i * dim + j]), static_cast<double>(z[j]), acc);
    out[i] = static_cast<T>(static_cast<double>(mean[i]) + acc);
  }
}

// -0.5 |L^-1 (theta - mean)|^2 - log_normalizer for one row. L^-1 (inv_tril, row-major, in
// double) was formed once at construction, so y_i = sum_{j <= i} (L^-1)_ij r_j needs no scratch:
// each row is one pass with nothing allocated. torch solves L y = r in float; double costs
// little at prior sizes and leaves only the final rounding. NaN in theta gives NaN, as in torch.
template <typename T>
CUSBI_HD T mvn_log_prob_row(const T* theta, const T* mean, const double* inv_tril, int64_t dim,
                            T log_normalizer) {
  double maha = 0.0;
  for (int64_t i = 0; i < dim; ++i) {
    double y = 0.0;
    for (int64_t j = 0; j <= i; ++j)  // the residual in the input precision, as torch's value - loc
      y = fma(inv_tril[i * dim + j], static_cast<double>(theta[j] - mean[j]), y);
    maha = fma(y, y, maha);
  }
  return static_cast<T>(-0.5 * maha - static_cast<double>(log_normalizer));
}

// d log p / d theta = -Sigma^-1 (theta - mean) for one row (precision: Sigma^-1, row-major, in
// double, formed once at construction), written to grad (dim,).
template <typename T>
CUSBI_HD void mvn_log_prob_gradient_row(const T* theta, const T* mean, const double* precision,
                                        int64_t dim, T* grad) {
  for (int64_t k = 0; k < dim; ++k) {
    double acc = 0.0;
    for (int64_t j = 0; j < dim; ++j)
      acc = fma(precision[k * dim + j], static_cast<double>(theta[j] - mean[j]), acc);
    grad[k] = static_cast<T>(-acc);
  }
}

// ---- ThetaTransform ----------------------------------------------------------------------------

// torch's _clipped_sigmoid and the clamp in SigmoidTransform._inverse: [tiny, 1 - eps] keeps
// logit finite and theta strictly inside the box (up to the affine step's rounding). NaN passes
// through, as with torch.clamp.
template <typename T>
CUSBI_HD T clip_unit(T u) {
  constexpr T kLow = std::numeric_limits<T>::min(),
              kHigh = T(1) - std::numeric_limits<T>::epsilon();
  return u < kLow ? kLow : (u > kHigh ? kHigh : u);
}

// z = logit((theta - shift) / scale) = log(u) - log1p(-u), as torch's x.log() - (-x).log1p().
template <typename T>
CUSBI_HD T sigmoid_forward(T theta, T shift, T scale) {
  const T u = clip_unit((theta - shift) / scale);
  return log(u) - log1p(-u);
}

template <typename T>
CUSBI_HD T sigmoid_inverse(T z, T shift, T scale) {
  return fma(scale, clip_unit(sigmoid(z)), shift);
}

// log(sigmoid(z) (1 - sigmoid(z))) = -softplus(-z) - softplus(z) (torch's SigmoidTransform
// log_abs_det_jacobian): exact far into the tails, where 1 - sigmoid(z) rounds to 0.
template <typename T>
CUSBI_HD T log_sigmoid_slope(T z) {
  return -softplus(-z) - softplus(z);
}

template <typename T>
CUSBI_HD T sigmoid_derivative(T z, T scale) {
  return scale * exp(log_sigmoid_slope(z));
}

// d/dz log|d theta / d z| = d/dz [-softplus(-z) - softplus(z)] = sigmoid(-z) - sigmoid(z)
// = 1 - 2 sigmoid(z), written as a difference of two sigmoids so it stays exact in both tails.
template <typename T>
CUSBI_HD T log_sigmoid_slope_derivative(T z) {
  return sigmoid(-z) - sigmoid(z);
}

template <ThetaMap Map, typename T>
CUSBI_HD T apply_theta_map(T x, T shift, T scale) {
  if constexpr (Map == ThetaMap::SigmoidForward) return sigmoid_forward(x, shift, scale);
  if constexpr (Map == ThetaMap::SigmoidInverse) return sigmoid_inverse(x, shift, scale);
  if constexpr (Map == ThetaMap::SigmoidDerivative) return sigmoid_derivative(x, scale);
  if constexpr (Map == ThetaMap::AffineForward) return (x - shift) / scale;
  if constexpr (Map == ThetaMap::AffineInverse) return fma(scale, x, shift);
  if constexpr (Map == ThetaMap::AffineDerivative) return scale;
  if constexpr (Map == ThetaMap::SigmoidLogDetGradient) return log_sigmoid_slope_derivative(x);
  if constexpr (Map == ThetaMap::AffineLogDetGradient) return T(0);
}

// sum_d log|d theta_d / d z_d| for one row, summed in double. The affine map's does not depend
// on z (as in torch, a NaN z still gives sum_d log scale_d).
template <typename T>
CUSBI_HD T theta_log_det_row(bool sigmoid_kind, const T* z, const T* scale, int64_t dim) {
  double acc = 0.0;
  for (int64_t d = 0; d < dim; ++d) {
    T term = log(scale[d]);
    if (sigmoid_kind) term += log_sigmoid_slope(z[d]);
    acc += static_cast<double>(term);
  }
  return static_cast<T>(acc);
}

// Calls f(std::integral_constant<ThetaMap, map>{}) (host code only): one switch turns the
// run-time map into the template parameter of the loop or kernel.
template <typename F>
void visit_theta_map(ThetaMap map, F&& f) {
  switch (map) {
    case ThetaMap::SigmoidForward:
      return f(std::integral_constant<ThetaMap, ThetaMap::SigmoidForward>{});
    case ThetaMap::SigmoidInverse:
      return f(std::integral_constant<ThetaMap, ThetaMap::SigmoidInverse>{});
    case ThetaMap::SigmoidDerivative:
      return f(std::integral_constant<ThetaMap, ThetaMap::SigmoidDerivative>{});
    case ThetaMap::AffineForward:
      return f(std::integral_constant<ThetaMap, ThetaMap::AffineForward>{});
    case ThetaMap::AffineInverse:
      return f(std::integral_constant<ThetaMap, ThetaMap::AffineInverse>{});
    case ThetaMap::AffineDerivative:
      return f(std::integral_constant<ThetaMap, ThetaMap::AffineDerivative>{});
    case ThetaMap::SigmoidLogDetGradient:
      return f(std::integral_constant<ThetaMap, ThetaMap::SigmoidLogDetGradient>{});
    case ThetaMap::AffineLogDetGradient:
      return f(std::integral_constant<ThetaMap, ThetaMap::AffineLogDetGradient>{});
  }
}

// ---- Potentials: the estimator's value composed with the prior and the transform ---------------
// (host/potentials/). Each is one row or one element, so the CPU loop and the kernel agree.

// sbi's torch.where(within_support, value, -inf) for one row of a potential, with its gradient
// (dim,) set to sign * grad_in where the row is in the support and to 0 outside, where the
// potential is a constant -inf. value is scaled by sign too (a flow's loss is -log q). grad_in
// may alias grad_out; both null when no gradient is wanted.
template <typename T>
CUSBI_HD void support_select_row(T mask, T sign, int64_t dim, T* value, const T* grad_in,
                                 T* grad_out) {
  const bool inside = mask != T(0);
  *value = inside ? sign * *value : neg_infinity<T>();
  if (grad_out)
    for (int64_t d = 0; d < dim; ++d) grad_out[d] = inside ? sign * grad_in[d] : T(0);
}

// The likelihood potential of one theta (column `col` of log_likelihood (trials, cols)): the sum
// over iid trials, in double and in trial order, plus the prior's log-density.
template <typename T>
CUSBI_HD T sum_trials_column(const T* log_likelihood, int64_t trials, int64_t cols, int64_t col,
                             T prior) {
  double acc = 0.0;
  for (int64_t t = 0; t < trials; ++t) acc += static_cast<double>(log_likelihood[t * cols + col]);
  return static_cast<T>(acc) + prior;
}

// sign * (a * b + c) for element i, b and c optional (null: 1 and 0). One pass composes a
// transformed potential's value (a = potential, c = log|det|) and its gradient by the chain rule
// through the diagonal Jacobian (a = d potential / d theta, b = d theta / d z, c = d log|det| /
// dz).
template <typename T>
CUSBI_HD T scaled_fma_element(const T* a, const T* b, const T* c, T sign, int64_t i) {
  const T ab = b ? a[i] * b[i] : a[i];
  return sign * (c ? (b ? fma(a[i], b[i], c[i]) : a[i] + c[i]) : ab);
}

}  // namespace cusbi::kern
