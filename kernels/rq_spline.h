// nflows' rational-quadratic spline with linear tails (Durkan et al. 2019), per element: the knots
// of one dimension from its 3K-1 unnormalised parameters, the bin search, forward, inverse, and the
// backward of the forward map. Written once for CUDA kernels and CPU loops (spec: npe.md §2). The
// operation order is nflows 0.14's on torch's CPU (unconstrained_rational_quadratic_spline), so
// float results match it to rounding: most bit for bit, the rest as close as nflows' float32 is to
// its float64 (exp/log differ in the last bit: SLEEF vs glibc vs CUDA; nvcc may contract a*b+c;
// min-width bins amplify that). No allocation, no exceptions: preconditions are the caller's
// (check them on the host with rq_bins_supported).
#pragma once
#include "kernels/common.h"

namespace cusbi::kern {

// Fixed upper bound for the stack arrays of RqSpline. A CUDA kernel should instantiate
// MaxBins = K (one switch over supported K) so that each thread holds only what it needs.
inline constexpr int kRqMaxBins = 64;
inline constexpr double kRqMinBinWidth = 1e-3;    // nflows DEFAULT_MIN_BIN_WIDTH
inline constexpr double kRqMinBinHeight = 1e-3;   // nflows DEFAULT_MIN_BIN_HEIGHT
inline constexpr double kRqMinDerivative = 1e-3;  // nflows DEFAULT_MIN_DERIVATIVE
// np.log(np.exp(1 - min_derivative) - 1) in double: the logit nflows pads both ends of the
// derivative vector with, so d_0 = d_K = min_derivative + softplus(logit) = 1 (to rounding) and the
// spline's slope meets the identity tails. Rounded to T first, as assigning it into a float
// tensor does.
inline constexpr double kRqBoundaryLogit = 0.5397424172369522;
inline constexpr double kRqSearchEps = 1e-6;  // torchutils.searchsorted's bump of the last knot

// Parameters per transformed dimension with linear tails: K widths, K heights, K-1 derivatives.
CUSBI_HD constexpr int rq_num_params(int num_bins) { return 3 * num_bins - 1; }

// nflows raises when min_bin * K > 1; MaxBins bounds the stack arrays.
CUSBI_HD constexpr bool rq_bins_supported(int num_bins, int max_bins = kRqMaxBins) {
  return num_bins >= 1 && num_bins <= max_bins && kRqMinBinWidth * num_bins <= 1.0 &&
         kRqMinBinHeight * num_bins <= 1.0;
}

// One dimension's spline. Knots cw (inputs) and ch (outputs) run from -bound to bound with both
// ends set exactly; d holds the K+1 knot derivatives (d[0], d[K] the padded boundary ones). pw, ph
// are the softmax probabilities of the widths and heights, kept for the backward.
template <typename T, int MaxBins = kRqMaxBins>
struct RqSpline {
  int num_bins;
  T bound;
  T cw[MaxBins + 1];
  T ch[MaxBins + 1];
  T d[MaxBins + 1];
  T pw[MaxBins];
  T ph[MaxBins];
};

template <typename T>
struct RqOut {
  T value;
  T logdet;  // log |d value / d input|
};

// softmax(u / divisor) into p; knots[0..K] = 2B * cumsum(min_bin + (1 - min_bin K) p) - B with
// a leading 0 and both ends forced to -B, B, in nflows' order of operations. torch's CPU cumsum
// accumulates float in double and rounds each partial sum, so this does too. Its softmax
// multiplies by the reciprocal of the sum.
template <typename T>
CUSBI_HD void rq_knots(const T* u, int num_bins, T divisor, double min_bin, T bound, T* p,
                       T* knots) {
  T a_max = u[0] / divisor;
  for (int k = 1; k < num_bins; ++k) {
    const T a = u[k] / divisor;
    a_max = a > a_max ? a : a_max;
  }
  T sum = T(0);
  for (int k = 0; k < num_bins; ++k) {
    p[k] = exp(u[k] / divisor - a_max);
    sum += p[k];
  }
  const T inv_sum = T(1) / sum;
  const T t_min = T(min_bin);
  const T t_scale = T(1.0 - min_bin * num_bins);  // a Python double, rounded to T
  const T range = T(2) * bound;                   // right - left (exact: a power-of-2 scaling)
  double acc = 0.0;
  knots[0] = -bound;
  for (int k = 0; k < num_bins; ++k) {
    p[k] = p[k] * inv_sum;
    acc += static_cast<double>(t_min + t_scale * p[k]);
    if (k + 1 < num_bins) knots[k + 1] = range * static_cast<T>(acc) + (-bound);
  }
  knots[num_bins] = bound;
}

// Knots and derivatives of one dimension. params: (3K-1) = widths | heights | interior
// derivatives, contiguous as the conditioner emits them. Widths and heights are divided by
// `divisor` before the softmax: sqrt(hidden_features) for nflows' ResidualNet conditioner, 1 for
// none (nflows divides, it does not multiply by the reciprocal; pass T(sqrt(double(H)))).
// Requires rq_bins_supported(num_bins, MaxBins) and bound > 0.
template <typename T, int MaxBins>
CUSBI_HD void rq_make_spline(const T* params, int num_bins, T bound, T divisor,
                             RqSpline<T, MaxBins>& s) {
  s.num_bins = num_bins;
  s.bound = bound;
  rq_knots(params, num_bins, divisor, kRqMinBinWidth, bound, s.pw, s.cw);
  rq_knots(params + num_bins, num_bins, divisor, kRqMinBinHeight, bound, s.ph, s.ch);
  const T d_min = T(kRqMinDerivative);
  const T d_boundary = d_min + softplus(T(kRqBoundaryLogit));
  s.d[0] = d_boundary;
  s.d[num_bins] = d_boundary;
  const T* u_d = params + 2 * num_bins;
  for (int k = 1; k < num_bins; ++k) s.d[k] = d_min + softplus(u_d[k - 1]);
}

// torchutils.searchsorted: (number of knots <= v) - 1, the last knot raised by 1e-6 first. Ties:
// v equal to knot k lands in bin k (its left end), so a knot maps exactly to its partner; v == B
// lands in bin K-1 thanks to the bump. For v in [knots[0], knots[K]] the result is in [0, K-1];
// it is clamped there so a v outside (which the spline never passes) cannot index out of range.
template <typename T>
CUSBI_HD int rq_search(const T* knots, int num_bins, T v) {
  int count = 0;
  for (int k = 0; k < num_bins; ++k) count += v >= knots[k] ? 1 : 0;
  count += v >= knots[num_bins] + T(kRqSearchEps) ? 1 : 0;
  const int bin = count - 1;
  return bin < 0 ? 0 : (bin > num_bins - 1 ? num_bins - 1 : bin);
}

// One bin gathered as nflows gathers it: widths and heights are knot differences, s = h / w.
template <typename T>
struct RqBin {
  int k;
  T x0, w, y0, h, s, d0, d1;
};

template <typename T, int MaxBins>
CUSBI_HD RqBin<T> rq_bin(const RqSpline<T, MaxBins>& sp, int k) {
  RqBin<T> b;
  b.k = k;
  b.x0 = sp.cw[k];
  b.w = sp.cw[k + 1] - sp.cw[k];
  b.y0 = sp.ch[k];
  b.h = sp.ch[k + 1] - sp.ch[k];
  b.s = b.h / b.w;
  b.d0 = sp.d[k];
  b.d1 = sp.d[k + 1];
  return b;
}

// log of the spline's slope at relative position xi of the bin, t = xi (1 - xi), denom its
// rational denominator: log(s^2 (d1 xi^2 + 2 s t + d0 (1-xi)^2)) - 2 log(denom).
template <typename T>
CUSBI_HD T rq_log_slope(const RqBin<T>& b, T xi, T t, T denom) {
  const T omx = T(1) - xi;
  const T inner = b.d1 * (xi * xi) + (T(2) * b.s) * t + b.d0 * (omx * omx);
  return log((b.s * b.s) * inner) - T(2) * log(denom);
}

template <typename T>
CUSBI_HD RqOut<T> rq_forward_in_bin(const RqBin<T>& b, T x) {
  const T xi = (x - b.x0) / b.w;
  const T t = xi * (T(1) - xi);
  const T numerator = b.h * (b.s * (xi * xi) + b.d0 * t);
  const T denom = b.s + ((b.d0 + b.d1) - T(2) * b.s) * t;
  return {b.y0 + numerator / denom, rq_log_slope(b, xi, t, denom)};
}

// The root xi in [0, 1] of a xi^2 + b xi + c = 0 as nflows takes it, 2c / (-b - sqrt(b^2 - 4ac))
// (the "+" root). This form cancels nothing when b >= 0, but when b < 0 (upper part of a bin whose
// right derivative far exceeds its slope) -b - sqrt(disc) cancels, up to ~1e4-fold with min-height
// bins; kept for parity with nflows, whose float32 inverse loses the same bits. nflows asserts
// disc >= 0; a rounding-negative disc is clamped to 0 here (NaN stays NaN), so sampling never
// produces NaN where nflows would have raised.
template <typename T>
CUSBI_HD RqOut<T> rq_inverse_in_bin(const RqBin<T>& b, T y) {
  const T dy = y - b.y0;
  const T slope_sum = (b.d0 + b.d1) - T(2) * b.s;
  const T qa = dy * slope_sum + b.h * (b.s - b.d0);
  const T qb = b.h * b.d0 - dy * slope_sum;
  const T qc = -b.s * dy;
  T disc = qb * qb - (T(4) * qa) * qc;
  disc = disc < T(0) ? T(0) : disc;
  const T xi = (T(2) * qc) / (-qb - sqrt(disc));
  const T t = xi * (T(1) - xi);
  const T denom = b.s + slope_sum * t;
  return {xi * b.w + b.x0, -rq_log_slope(b, xi, t, denom)};
}

// nflows' inclusive mask -B <= v <= B; NaN is outside, so it passes through unchanged as in nflows.
template <typename T>
CUSBI_HD bool rq_inside(T v, T bound) {
  return v >= -bound && v <= bound;
}

// Forward v -> y with log|dy/dv|; identity and log|det| 0 outside [-B, B].
template <typename T, int MaxBins>
CUSBI_HD RqOut<T> rq_forward(const RqSpline<T, MaxBins>& sp, T x) {
  if (!rq_inside(x, sp.bound)) return {x, T(0)};
  return rq_forward_in_bin(rq_bin(sp, rq_search(sp.cw, sp.num_bins, x)), x);
}

// Inverse y -> v with log|dv/dy| (= minus the forward log|det| at v); identity outside [-B, B].
template <typename T, int MaxBins>
CUSBI_HD RqOut<T> rq_inverse(const RqSpline<T, MaxBins>& sp, T y) {
  if (!rq_inside(y, sp.bound)) return {y, T(0)};
  return rq_inverse_in_bin(rq_bin(sp, rq_search(sp.ch, sp.num_bins, y)), y);
}

// Gradients of G = dvalue * y + dlogdet * log|dy/dx| w.r.t. the bin's gathered quantities.
template <typename T>
struct RqBinGrad {
  T x, x0, w, y0, h, d0, d1;
};

template <typename T>
CUSBI_HD RqBinGrad<T> rq_bin_backward(const RqBin<T>& b, T x, T dvalue, T dlogdet) {
  const T xi = (x - b.x0) / b.w;
  const T omx = T(1) - xi, t = xi * omx, dt = T(1) - T(2) * xi;  // dt = d t / d xi
  const T slope_sum = (b.d0 + b.d1) - T(2) * b.s;
  const T denom = b.s + slope_sum * t;
  const T ratio = (b.s * xi * xi + b.d0 * t) / denom;  // y = y0 + h * ratio
  const T inner = b.d1 * xi * xi + T(2) * b.s * t + b.d0 * omx * omx;
  // Partials of ratio (r_*) and of log|det| (l_*) w.r.t. xi, s, d0, d1 (d denom/ds = 1 - 2t).
  const T r_xi = (T(2) * b.s * xi + b.d0 * dt - ratio * slope_sum * dt) / denom;
  const T r_s = (xi * xi - ratio * (T(1) - T(2) * t)) / denom;
  const T r_d0 = t * (T(1) - ratio) / denom;
  const T r_d1 = -ratio * t / denom;
  const T l_xi = T(2) * (b.d1 * xi + b.s * dt - b.d0 * omx) / inner - T(2) * slope_sum * dt / denom;
  const T l_s = T(2) / b.s + T(2) * t / inner - T(2) * (T(1) - T(2) * t) / denom;
  const T l_d0 = omx * omx / inner - T(2) * t / denom;
  const T l_d1 = xi * xi / inner - T(2) * t / denom;
  const T vh = dvalue * b.h;
  const T g_xi = vh * r_xi + dlogdet * l_xi;
  const T g_s = vh * r_s + dlogdet * l_s;
  RqBinGrad<T> g;
  g.x = g_xi / b.w;  // xi = (x - x0) / w, s = h / w
  g.x0 = -g.x;
  g.w = -(g_xi * xi + g_s * b.s) / b.w;
  g.y0 = dvalue;
  g.h = dvalue * ratio + g_s / b.w;
  g.d0 = vh * r_d0 + dlogdet * l_d0;
  g.d1 = vh * r_d1 + dlogdet * l_d1;
  return g;
}

// Backward of rq_knots for gradients g_lo, g_hi on knots k and k+1 (the only ones a bin reads);
// knots 0 and K are constants (nflows overwrites them), so their gradients are dropped. Writes
// dG/du[0..K) through cumsum, the min-bin map, softmax and the division by `divisor`.
template <typename T>
CUSBI_HD void rq_knots_backward(const T* p, int num_bins, T divisor, double min_bin, T bound, int k,
                                T g_lo, T g_hi, T* du) {
  const T range = T(2) * bound;
  const T g_cum_lo = (k >= 1) ? range * g_lo : T(0);  // d knot_j / d cumsum_j = 2B
  const T g_cum_hi = (k + 1 <= num_bins - 1) ? range * g_hi : T(0);
  const T t_scale = T(1.0 - min_bin * num_bins);
  // cumsum_j = sum_{i<j} width_i, so width i feeds knot k when i < k and knot k+1 when i <= k.
  T dot = T(0);
  for (int i = 0; i < num_bins; ++i) {
    const T g_p = t_scale * ((i < k ? g_cum_lo : T(0)) + (i <= k ? g_cum_hi : T(0)));
    du[i] = g_p;
    dot += p[i] * g_p;
  }
  for (int i = 0; i < num_bins; ++i) du[i] = p[i] * (du[i] - dot) / divisor;
}

// Backward of rq_forward at x for upstream gradients dvalue (of y) and dlogdet (of log|det|).
// Writes (overwrites) dparams[0..3K-1) with dG/dparams, the same layout as params (which must be
// the ones `sp` was made from, with the same divisor), and returns dG/dx. Outside [-B, B]:
// dparams = 0 and dG/dx = dvalue. Each (row, dimension) owns its parameter block, so a coupling
// layer can write this straight into its conditioner's output gradient.
template <typename T, int MaxBins>
CUSBI_HD T rq_forward_backward(const RqSpline<T, MaxBins>& sp, const T* params, T divisor, T x,
                               T dvalue, T dlogdet, T* dparams) {
  const int nb = sp.num_bins;
  if (!rq_inside(x, sp.bound)) {
    for (int i = 0; i < rq_num_params(nb); ++i) dparams[i] = T(0);
    return dvalue;
  }
  const int k = rq_search(sp.cw, nb, x);
  const RqBinGrad<T> g = rq_bin_backward(rq_bin(sp, k), x, dvalue, dlogdet);
  // x0 = cw_k, w = cw_{k+1} - cw_k; likewise y0, h from ch.
  rq_knots_backward(sp.pw, nb, divisor, kRqMinBinWidth, sp.bound, k, g.x0 - g.w, g.w, dparams);
  rq_knots_backward(sp.ph, nb, divisor, kRqMinBinHeight, sp.bound, k, g.y0 - g.h, g.h,
                    dparams + nb);
  // Interior derivative j (1..K-1) is params[2K + j - 1]; d_0 and d_K are constants.
  const T* u_d = params + 2 * nb;
  T* du_d = dparams + 2 * nb;
  for (int j = 0; j < nb - 1; ++j) du_d[j] = T(0);
  if (k >= 1) du_d[k - 1] = g.d0 * softplus_grad(u_d[k - 1]);
  if (k + 1 <= nb - 1) du_d[k] = g.d1 * softplus_grad(u_d[k]);
  return g.x;
}

// Self-contained per-(row, dimension) entry points, as a fused CUDA thread runs them: the knots
// are built only for inputs inside [-B, B]. params: (3K-1), see rq_make_spline.
template <int MaxBins = kRqMaxBins, typename T>
CUSBI_HD RqOut<T> rq_spline_forward(const T* params, int num_bins, T bound, T divisor, T x) {
  if (!rq_inside(x, bound)) return {x, T(0)};
  RqSpline<T, MaxBins> sp;
  rq_make_spline(params, num_bins, bound, divisor, sp);
  return rq_forward(sp, x);
}

template <int MaxBins = kRqMaxBins, typename T>
CUSBI_HD RqOut<T> rq_spline_inverse(const T* params, int num_bins, T bound, T divisor, T y) {
  if (!rq_inside(y, bound)) return {y, T(0)};
  RqSpline<T, MaxBins> sp;
  rq_make_spline(params, num_bins, bound, divisor, sp);
  return rq_inverse(sp, y);
}

// Writes dparams (3K-1) and returns dG/dx, as rq_forward_backward.
template <int MaxBins = kRqMaxBins, typename T>
CUSBI_HD T rq_spline_backward(const T* params, int num_bins, T bound, T divisor, T x, T dvalue,
                              T dlogdet, T* dparams) {
  if (!rq_inside(x, bound)) {
    for (int i = 0; i < rq_num_params(num_bins); ++i) dparams[i] = T(0);
    return dvalue;
  }
  RqSpline<T, MaxBins> sp;
  rq_make_spline(params, num_bins, bound, divisor, sp);
  return rq_forward_backward(sp, params, divisor, x, dvalue, dlogdet, dparams);
}

}  // namespace cusbi::kern
