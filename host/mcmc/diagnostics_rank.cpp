// The transforms the MCMC diagnostics apply before R-hat and ESS: splitting chains, rank
// normalisation (average ranks for ties, Blom's offset, normal quantile), median and type-7
// quantiles. Each reproduces the numpy/scipy call arviz makes, so results match arviz's to
// rounding and ties land on the same side of a quantile.
#include <algorithm>
#include <cmath>
#include <utility>

#include "host/mcmc/diagnostics_impl.hpp"

namespace cusbi::detail {

SplitChains split_chains(std::span<const double> draws, int64_t num_chains) {
  const int64_t n = static_cast<int64_t>(draws.size()) / num_chains, half = n / 2;
  SplitChains s;
  s.chains = 2 * num_chains;
  s.draws = half;
  s.x.resize(static_cast<size_t>(s.chains * half));
  for (int64_t c = 0; c < num_chains; ++c) {
    const double* chain = draws.data() + c * n;
    std::copy(chain, chain + half, s.x.begin() + c * half);                         // [:half]
    std::copy(chain + n - half, chain + n, s.x.begin() + (num_chains + c) * half);  // [-half:]
  }
  return s;
}

// Acklam's rational approximation (relative error < 1.2e-9) polished by Halley steps on
// Phi(x) - p, which converge cubically to double precision. Only the lower half is solved:
// 1 - p is exact for p in [0.5, 1], and Phi(x) - p keeps its relative precision there.
double normal_quantile(double p) {
  if (p > 0.5) return -normal_quantile(1.0 - p);
  if (p == 0.5) return 0.0;
  if (p <= 0.0) return -INFINITY;
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  double x;
  if (p < 0.02425) {
    const double q = std::sqrt(-2.0 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  } else {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
  }
  const double sqrt2pi = std::sqrt(2.0 * M_PI);
  for (int step = 0; step < 2; ++step) {
    // Near the centre erf keeps relative precision (p - 0.5 is exact there); erfc in the tail.
    const double e =
        p >= 0.25 ? 0.5 * std::erf(x / M_SQRT2) - (p - 0.5) : 0.5 * std::erfc(-x / M_SQRT2) - p;
    const double u = e * sqrt2pi * std::exp(0.5 * x * x);
    x -= u / (1.0 + 0.5 * x * u);
  }
  return x;
}

std::vector<double> rank_normalise(std::span<const double> x) {
  const size_t n = x.size();
  // (value, index) pairs sort contiguously: an index sort that reads x[i] at random is ~8x slower.
  std::vector<std::pair<double, size_t>> sorted(n);
  for (size_t i = 0; i < n; ++i) sorted[i] = {x[i], i};
  std::sort(sorted.begin(), sorted.end());
  std::vector<double> z(n);
  const double denom = static_cast<double>(n) - 2.0 * 0.375 + 1.0;  // arviz: size - 2c + 1
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && sorted[j].first == sorted[i].first) ++j;
    // Positions i..j-1 (0-based) tie: each gets the average 1-based rank (i + 1 + j) / 2.
    const double rank = 0.5 * static_cast<double>(i + 1 + j);
    const double value = normal_quantile((rank - 0.375) / denom);
    for (size_t k = i; k < j; ++k) z[sorted[k].second] = value;
    i = j;
  }
  return z;
}

double median(std::vector<double> x) {
  const size_t n = x.size(), mid = n / 2;
  std::nth_element(x.begin(), x.begin() + mid, x.end());
  const double upper = x[mid];
  if (n % 2 == 1) return upper;
  const double lower = *std::max_element(x.begin(), x.begin() + mid);
  return (lower + upper) / 2.0;
}

double quantile_type7(const std::vector<double>& sorted, double p) {
  const int64_t n = static_cast<int64_t>(sorted.size());
  if (n == 1) return sorted[0];
  const double m = 1.0 + p * (1.0 - 1.0 - 1.0);  // alphap + p (1 - alphap - betap), both 1
  const double aleph = static_cast<double>(n) * p + m;
  const int64_t k = static_cast<int64_t>(std::floor(std::clamp(aleph, 1.0, double(n - 1))));
  const double gamma = std::clamp(aleph - static_cast<double>(k), 0.0, 1.0);
  return (1.0 - gamma) * sorted[k - 1] + gamma * sorted[k];
}

}  // namespace cusbi::detail
