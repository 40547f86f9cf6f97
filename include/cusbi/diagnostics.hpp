// MCMC convergence diagnostics: rank-normalised split R-hat, bulk ESS and tail ESS per parameter
// dimension, as defined by Vehtari, Gelman, Simpson, Carpenter & Buerkner (2021), "Rank-
// normalization, folding, and localization: an improved R-hat", and computed the way arviz 0.23
// does (arviz.rhat(method="rank"), arviz.ess(method="bulk" / "tail")); the golden test
// tests/golden/test_mcmc_diagnostics_golden.cpp checks the numbers against arviz.
//   auto d = cusbi::mcmc_diagnostics(chains);  // chains (C, N, D)
//   d.rhat (D,): want < 1.01;  d.ess_bulk, d.ess_tail (D,): want > ~100 per chain
#pragma once
#include <cstdint>
#include <span>

#include "cusbi/tensor.hpp"

namespace cusbi {

// One value per parameter dimension; each tensor (D,), float32, on the CPU.
struct Diagnostics {
  Tensor rhat;      // max(split R-hat of the rank-normalised draws, of the folded draws)
  Tensor ess_bulk;  // ESS of the rank-normalised draws: reliability of means and medians
  Tensor ess_tail;  // min ESS of I(x <= q05) and I(x <= q95): reliability of 90% intervals
};

// chains: (C, N, D) float32, C >= 1 chains of N >= 4 draws of D parameters, any device (copied to
// the host; everything is computed in double there, deterministically).
// Throws cusbi::Error for another shape or dtype, N < 4, or a NaN/inf draw.
Diagnostics mcmc_diagnostics(const Tensor& chains);

// The same quantities for one parameter: `draws` holds C chains of N draws each, chain-major
// (draws[c * N + n]), so N = draws.size() / C. Same checks as mcmc_diagnostics.
double split_rhat(std::span<const double> draws, int64_t num_chains);
double ess_bulk(std::span<const double> draws, int64_t num_chains);
double ess_tail(std::span<const double> draws, int64_t num_chains);

// Conventions (those of the paper and arviz; S is the total number of split draws):
// - Split chains: each chain's first floor(N/2) and last floor(N/2) draws become two chains of
//   M = floor(N/2), so 2C chains; with an odd N the middle draw is left out (as arviz does).
//   One chain therefore works: it is compared with itself, first half against second half.
// - Rank normalisation: ranks r over all S split draws together, ties get their average rank
//   (scipy.stats.rankdata "average"); z = Phi^-1((r - 3/8) / (S + 1/4)) (Blom's offset).
// - R-hat of 2C chains of M: sqrt(((M - 1) / M * W + B / M) / W) with W the mean within-chain
//   variance (ddof 1) and B / M the variance (ddof 1) of the chain means. rhat = max(R-hat of z,
//   R-hat of the rank-normalised folded draws |x - median(x)|), the median over all S split draws,
//   with Python's max as arviz: NaN when the first is NaN (a constant dimension, 0 / 0, gives NaN
//   as in arviz), the first when only the second is. With C == 1 arviz declines (NaN); cusbi
//   returns the split R-hat of the two halves (the paper's definition, as Stan and the R package
//   posterior compute it).
// - ESS of 2C chains of M: autocovariances (divided by M) averaged over chains, combined with the
//   between-chain variance into rho_t (the paper's eq. 10), summed with Geyer's initial positive
//   sequence truncation and made monotone (Geyer's initial monotone sequence), as arviz's _ess;
//   tau is floored at 1 / log10(2CM), so ESS <= 2CM log10(2CM). A constant input has ESS = 2CM.
//   Autocovariances (arviz: FFT) are exact sums for the first 64 lags the truncation reaches and
//   come from an FFT beyond (slowly mixing chains): the same math, so results agree to rounding.
// - Tail ESS: the 5% and 95% quantiles of all C x N draws (R's type 7, linear interpolation, as
//   arviz's scipy mquantiles(alphap=1, betap=1)); ess_tail = min(ESS of the split indicator
//   I(x <= q05), ESS of I(x <= q95)), both without rank normalisation.

}  // namespace cusbi
