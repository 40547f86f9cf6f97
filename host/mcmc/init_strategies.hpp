// sbi's MCMC init strategies (spec mcmc_nre.md §1.3): where each chain starts, in z = T(theta).
// proposal: a proposal draw; resample: a categorical draw from num_candidate_samples proposal
// draws weighted by exp(potential) (no proposal correction, as sbi); sir: weighted by
// exp(potential - log proposal); latest_sample: the last run's final states.
#pragma once
#include <cstdint>
#include <string>

#include "cusbi/distributions.hpp"
#include "cusbi/mcmc.hpp"
#include "cusbi/potentials.hpp"
#include "cusbi/random.hpp"

namespace cusbi::mcmc {

struct InitContext {
  Potential& potential;  // untransformed, x already set
  const Distribution& proposal;
  const ThetaTransform& transform;
  Generator& generator;
  const Tensor* latest = nullptr;  // (C', D) z of the last run, or null
  bool show_progress = false;
};

// (chains, D) float on the potential's device, in z space. Adds the potential evaluations made
// to *evaluations. Throws cusbi::Error for an unknown strategy, a candidate pool whose weights
// are all zero or NaN, or latest_sample without enough stored states.
Tensor initial_points(const std::string& strategy, const InitStrategyParameters& parameters,
                      int64_t chains, InitContext& context, int64_t* evaluations);

}  // namespace cusbi::mcmc
