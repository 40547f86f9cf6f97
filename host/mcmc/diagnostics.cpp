// MCMC convergence diagnostics (include/cusbi/diagnostics.hpp): rank-normalised split R-hat,
// bulk ESS and tail ESS per parameter dimension, computed as arviz 0.23 does (the golden test
// compares with it). The transforms live in diagnostics_rank.cpp, the ESS estimator in
// diagnostics_ess.cpp (with diagnostics_fft.cpp); this file checks inputs and combines them.
#include "cusbi/diagnostics.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "cusbi/error.hpp"
#include "host/mcmc/diagnostics_impl.hpp"

namespace cusbi {

namespace {

constexpr int64_t kMinDraws = 4;  // arviz's minimum: two split halves of at least 2 draws

void check_draws(std::span<const double> draws, int64_t num_chains) {
  CUSBI_CHECK(num_chains >= 1, "MCMC diagnostics need at least one chain, got " << num_chains);
  const int64_t total = static_cast<int64_t>(draws.size());
  CUSBI_CHECK(total % num_chains == 0, "MCMC diagnostics: " << total << " draws do not split into "
                                                            << num_chains << " equal chains");
  const int64_t n = total / num_chains;
  CUSBI_CHECK(n >= kMinDraws, "MCMC diagnostics need at least " << kMinDraws
                                                                << " draws per chain, got " << n
                                                                << "; run the chains longer");
  for (int64_t i = 0; i < total; ++i)
    CUSBI_CHECK(std::isfinite(draws[i]), "MCMC diagnostics: draw "
                                             << i % n << " of chain " << i / n << " is " << draws[i]
                                             << "; the chains must be finite");
}

// arviz's _rhat: split R-hat of chains given as SplitChains (possibly transformed).
double rhat_of(const detail::SplitChains& s) {
  const double m = static_cast<double>(s.draws);
  std::vector<double> means(static_cast<size_t>(s.chains));
  double within = 0.0;
  for (int64_t c = 0; c < s.chains; ++c) {
    const double* chain = s.x.data() + c * s.draws;
    double sum = 0.0;
    for (int64_t i = 0; i < s.draws; ++i) sum += chain[i];
    const double mean = sum / m;
    double ss = 0.0;
    for (int64_t i = 0; i < s.draws; ++i) ss += (chain[i] - mean) * (chain[i] - mean);
    means[c] = mean;
    within += ss / (m - 1.0);
  }
  within /= static_cast<double>(s.chains);
  double grand = 0.0;
  for (double mean : means) grand += mean;
  grand /= static_cast<double>(s.chains);
  double ss = 0.0;
  for (double mean : means) ss += (mean - grand) * (mean - grand);
  const double between = m * ss / static_cast<double>(s.chains - 1);
  // A constant input gives 0 / 0 = NaN, constant but different chains +inf, as numpy does.
  return std::sqrt((between / within + m - 1.0) / m);
}

detail::SplitChains rank_normalised(detail::SplitChains s) {
  s.x = detail::rank_normalise(s.x);
  return s;
}

double ess_of_indicator(std::span<const double> draws, int64_t num_chains, double q) {
  std::vector<double> indicator(draws.size());
  for (size_t i = 0; i < draws.size(); ++i) indicator[i] = draws[i] <= q ? 1.0 : 0.0;
  return detail::ess_of(detail::split_chains(indicator, num_chains));
}

// R-hat from the split draws and their rank normalisation z (shared with the bulk ESS).
double rank_rhat(detail::SplitChains split, const detail::SplitChains& z) {
  const double bulk = rhat_of(z);
  const double centre = detail::median(split.x);
  for (double& x : split.x) x = std::fabs(x - centre);
  const double tail = rhat_of(rank_normalised(std::move(split)));
  // Python's max(bulk, tail), as arviz: bulk unless tail is larger (so NaN only from bulk).
  return tail > bulk ? tail : bulk;
}

double tail_ess(std::span<const double> draws, int64_t num_chains) {
  std::vector<double> sorted(draws.begin(), draws.end());
  std::sort(sorted.begin(), sorted.end());
  const double low = ess_of_indicator(draws, num_chains, detail::quantile_type7(sorted, 0.05));
  const double high = ess_of_indicator(draws, num_chains, detail::quantile_type7(sorted, 0.95));
  return std::min(low, high);
}

}  // namespace

double split_rhat(std::span<const double> draws, int64_t num_chains) {
  check_draws(draws, num_chains);
  detail::SplitChains split = detail::split_chains(draws, num_chains);
  const detail::SplitChains z = rank_normalised(split);
  return rank_rhat(std::move(split), z);
}

double ess_bulk(std::span<const double> draws, int64_t num_chains) {
  check_draws(draws, num_chains);
  return detail::ess_of(rank_normalised(detail::split_chains(draws, num_chains)));
}

double ess_tail(std::span<const double> draws, int64_t num_chains) {
  check_draws(draws, num_chains);
  return tail_ess(draws, num_chains);
}

Diagnostics mcmc_diagnostics(const Tensor& chains) {
  CUSBI_CHECK(chains.defined(), "mcmc_diagnostics: the chains tensor is undefined");
  CUSBI_CHECK(chains.dim() == 3,
              "mcmc_diagnostics: chains must be (C, N, D) = (chains, draws, "
              "parameters), got shape "
                  << shape_str(chains.shape()) << "; reshape a single chain to (1, N, D)");
  CUSBI_CHECK(chains.dtype() == DType::Float32,
              "mcmc_diagnostics: chains must be float32, got " << dtype_name(chains.dtype()));
  const int64_t c = chains.size(0), n = chains.size(1), d = chains.size(2);
  CUSBI_CHECK(c >= 1 && d >= 1, "mcmc_diagnostics: chains has shape "
                                    << shape_str(chains.shape())
                                    << "; need at least one chain and one parameter");
  CUSBI_CHECK(n >= kMinDraws, "mcmc_diagnostics needs at least "
                                  << kMinDraws << " draws per chain, got " << n << " (chains shape "
                                  << shape_str(chains.shape()) << "); run the chains longer");
  const std::vector<float> host = chains.to_vector();
  std::vector<float> rhat(d), bulk(d), tail(d);
  std::vector<double> draws(static_cast<size_t>(c * n));
  for (int64_t j = 0; j < d; ++j) {
    for (int64_t i = 0; i < c * n; ++i) {
      draws[i] = host[static_cast<size_t>(i * d + j)];
      CUSBI_CHECK(std::isfinite(draws[i]), "mcmc_diagnostics: chains[" << i / n << ", " << i % n
                                                                       << ", " << j << "] is "
                                                                       << draws[i]
                                                                       << "; the chains must be "
                                                                          "finite");
    }
    detail::SplitChains split = detail::split_chains(draws, c);
    const detail::SplitChains z = rank_normalised(split);
    rhat[j] = static_cast<float>(rank_rhat(std::move(split), z));
    bulk[j] = static_cast<float>(detail::ess_of(z));
    tail[j] = static_cast<float>(tail_ess(draws, c));
  }
  return {Tensor::from(rhat, {d}, Device::cpu()), Tensor::from(bulk, {d}, Device::cpu()),
          Tensor::from(tail, {d}, Device::cpu())};
}

}  // namespace cusbi
