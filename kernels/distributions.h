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

// -0.5 |L^-1 (theta - mean)|^2 - log_normalizer for one row, solving L y = theta - mean by
// forward substitution (y: dim doubles of scratch). torch solves in float; double costs little
// at prior sizes and leaves only the final rounding. NaN in theta gives NaN, as in torch.
template <typename T>
CUSBI_HD T mvn_log_prob_row(const T* theta, const T* mean, const T* scale_tril, int64_t dim,
                            T log_normalizer, double* y) {
  double maha = 0.0;
  for (int64_t i = 0; i < dim; ++i) {
    // The residual in the input precision first, as torch forms value - loc.
    double acc = static_cast<double>(theta[i] - mean[i]);
    for (int64_t j = 0; j < i; ++j)
      acc = fma(-static_cast<double>(scale_tril[i * dim + j]), y[j], acc);
    y[i] = acc / static_cast<double>(scale_tril[i * dim + i]);
    maha = fma(y[i], y[i], maha);
  }
  return static_cast<T>(-0.5 * maha - static_cast<double>(log_normalizer));
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

template <ThetaMap Map, typename T>
CUSBI_HD T apply_theta_map(T x, T shift, T scale) {
  if constexpr (Map == ThetaMap::SigmoidForward) return sigmoid_forward(x, shift, scale);
  if constexpr (Map == ThetaMap::SigmoidInverse) return sigmoid_inverse(x, shift, scale);
  if constexpr (Map == ThetaMap::SigmoidDerivative) return sigmoid_derivative(x, scale);
  if constexpr (Map == ThetaMap::AffineForward) return (x - shift) / scale;
  if constexpr (Map == ThetaMap::AffineInverse) return fma(scale, x, shift);
  if constexpr (Map == ThetaMap::AffineDerivative) return scale;
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
  }
}

}  // namespace cusbi::kern
