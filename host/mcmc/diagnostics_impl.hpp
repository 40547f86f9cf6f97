// Pieces of the MCMC diagnostics (include/cusbi/diagnostics.hpp) shared by its files: split
// chains, rank normalisation, the normal quantile, type-7 quantiles and arviz's ESS estimator.
// All in double on the host; conventions are documented in the public header.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace cusbi::detail {

// 2C chains of M = floor(N / 2) draws, chain-major: x[c * M + m].
struct SplitChains {
  std::vector<double> x;
  int64_t chains = 0;
  int64_t draws = 0;
};

// Each chain's first and last floor(N / 2) draws (the middle one dropped for an odd N); first
// halves of all chains, then second halves (arviz's order; R-hat and ESS do not depend on it).
SplitChains split_chains(std::span<const double> draws, int64_t num_chains);

// Phi^-1((r - 3/8) / (S + 1/4)) of each value's average rank r among all S values.
std::vector<double> rank_normalise(std::span<const double> x);

// Phi^-1(p) for p in (0, 1), to about 1e-15 relative (scipy.special.ndtri).
double normal_quantile(double p);

// Median of all values (mean of the two middle ones for an even count), as numpy.median.
double median(std::vector<double> x);

// Quantile p of sorted values, R's type 7 in scipy mquantiles(alphap=1, betap=1)'s arithmetic.
double quantile_type7(const std::vector<double>& sorted, double p);

// Autocovariance of each chain at lags 0..M-1 (sum_i (x_i - mean)(x_{i+lag} - mean) / M, as
// arviz's autocov), averaged over the chains; by FFT, O(M log M) per chain.
std::vector<double> mean_autocov_fft(const SplitChains& s);

// arviz's _ess of split chains (already rank-normalised or indicator-transformed).
double ess_of(const SplitChains& s);

}  // namespace cusbi::detail
