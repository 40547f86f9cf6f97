// arviz's _ess (Vehtari et al. 2021, eq. 10-11 with Geyer's initial monotone sequence) for split
// chains. arviz computes every autocovariance lag with an FFT; the truncation only reads lags up
// to where the paired autocorrelations turn negative, which for well-mixed chains is a few, so
// those are summed exactly on demand and an FFT (diagnostics_fft.cpp) serves chains that need many.
#include <algorithm>
#include <cmath>
#include <limits>

#include "host/mcmc/diagnostics_impl.hpp"

namespace cusbi::detail {

namespace {

// Exact sums cost S per lag and an FFT of every lag ~20 S log2(2M); slowly mixing chains reach
// many lags, so past this many the remaining lags come from one FFT (same values to rounding).
constexpr int64_t kExactLags = 64;

// The autocovariance at a lag (sum / M, as arviz's autocov) of the per-chain centred draws,
// averaged over chains: summed exactly for the first kExactLags lags asked for, then by FFT.
class MeanAutocov {
 public:
  explicit MeanAutocov(const SplitChains& s) : s_(s), centred_(s.x), means_(s.chains) {
    for (int64_t c = 0; c < s.chains; ++c) {
      double* chain = centred_.data() + c * s.draws;
      double sum = 0.0;
      for (int64_t i = 0; i < s.draws; ++i) sum += chain[i];
      means_[c] = sum / static_cast<double>(s.draws);
      for (int64_t i = 0; i < s.draws; ++i) chain[i] -= means_[c];
    }
  }
  const std::vector<double>& chain_means() const { return means_; }

  double operator()(int64_t lag) {
    if (all_lags_.empty() && lag >= kExactLags) all_lags_ = mean_autocov_fft(s_);
    if (!all_lags_.empty()) return all_lags_[static_cast<size_t>(lag)];
    double total = 0.0;
    for (int64_t c = 0; c < s_.chains; ++c) {
      const double* chain = centred_.data() + c * s_.draws;
      double sum = 0.0;
      for (int64_t i = 0; i + lag < s_.draws; ++i) sum += chain[i] * chain[i + lag];
      total += sum / static_cast<double>(s_.draws);
    }
    return total / static_cast<double>(s_.chains);
  }

 private:
  const SplitChains& s_;
  std::vector<double> centred_, means_, all_lags_;
};

double variance_ddof1(const std::vector<double>& v) {
  double mean = 0.0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  double ss = 0.0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return ss / static_cast<double>(v.size() - 1);
}

}  // namespace

double ess_of(const SplitChains& s) {
  const auto [lo, hi] = std::minmax_element(s.x.begin(), s.x.end());
  const double size = static_cast<double>(s.x.size());
  // arviz: a constant input (range below numpy's float resolution 1e-15) has ESS = its size.
  if (*hi - *lo < 1e-15) return size;

  const int64_t n = s.draws;
  const double nd = static_cast<double>(n);
  MeanAutocov acov(s);
  const double mean_var = acov(0) * nd / (nd - 1.0);
  double var_plus = mean_var * (nd - 1.0) / nd;
  if (s.chains > 1) var_plus += variance_ddof1(acov.chain_means());
  const auto rho = [&](int64_t lag) { return 1.0 - (mean_var - acov(lag)) / var_plus; };

  // Geyer's initial positive sequence: pairs (even, odd lag) while their sum stays positive.
  std::vector<double> rho_t(static_cast<size_t>(n), 0.0);
  double rho_even = 1.0, rho_odd = rho(1);
  rho_t[0] = rho_even;
  rho_t[1] = rho_odd;
  int64_t t = 1;
  while (t < n - 3 && rho_even + rho_odd > 0.0) {
    rho_even = rho(t + 1);
    rho_odd = rho(t + 2);
    if (rho_even + rho_odd >= 0.0) {
      rho_t[t + 1] = rho_even;
      rho_t[t + 2] = rho_odd;
    }
    t += 2;
  }
  const int64_t max_t = t - 2;
  if (rho_even > 0.0) rho_t[max_t + 1] = rho_even;  // arviz's "improve estimation"
  // Geyer's initial monotone sequence: pair sums may not increase.
  for (t = 1; t <= max_t - 2; t += 2) {
    if (rho_t[t + 1] + rho_t[t + 2] > rho_t[t - 1] + rho_t[t]) {
      rho_t[t + 1] = (rho_t[t - 1] + rho_t[t]) / 2.0;
      rho_t[t + 2] = rho_t[t + 1];
    }
  }
  double sum = 0.0;
  for (int64_t i = 0; i <= max_t; ++i) sum += rho_t[i];
  double tau = -1.0 + 2.0 * sum + rho_t[max_t + 1];
  // The floor caps ESS at size * log10(size) (antithetic chains can push tau towards 0).
  tau = std::max(tau, 1.0 / std::log10(size));
  for (double r : rho_t)
    if (std::isnan(r)) return std::numeric_limits<double>::quiet_NaN();
  return size / tau;
}

}  // namespace cusbi::detail
