// sbi's NLE (NLE_A; SNLE, SNL and SNLE_A are its deprecated aliases) in its first round: collects
// (theta, x) pairs and trains a neural spline flow q(x | theta), the likelihood, with sbi's
// defaults (TrainOptions) and early stopping, over the same training loop as NPE. The posterior
// is then sampled by MCMC on log q(x_o | theta) + log p(theta).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "cusbi/distributions.hpp"
#include "cusbi/flows.hpp"
#include "cusbi/inference.hpp"
#include "cusbi/mcmc.hpp"
#include "cusbi/tensor.hpp"

namespace cusbi {

namespace detail {
struct NleState;  // host/inference/nle_state.hpp
}

// The flow is sbi's build_nsf with the roles of NPE's swapped: x is the modelled input and theta
// the condition (sbi's NLE(prior, density_estimator="nsf"); sbi's own default is a MAF, which
// cusbi does not have). z-scoring statistics come from the training split only; the loss is
// -log q(x | theta) per sample. Usage:
//   NLE nle(prior);  nle.append_simulations(theta, x);  NeuralSplineFlow& q = nle.train();
// Not copyable; one NLE must not be used from several threads at once.
class NLE {
 public:
  // The prior is copied onto `device`, where the data, network and training live; as NPE's:
  // NLE(prior), NLE(prior, Device::cpu()), NLE(prior, NsfOptions{...}, device), NLE(prior, {}).
  explicit NLE(const Distribution& prior, Device device = Device::best());
  NLE(const Distribution& prior, const NsfOptions& nsf_options, Device device = Device::best());
  ~NLE();
  NLE(NLE&&) noexcept;
  NLE& operator=(NLE&&) noexcept;

  // theta (N, D) with D = prior.event_size(), x (N, C), any device (copied to the NLE's device
  // when elsewhere). Appends to the simulations held so far. Unlike NPE's (whose default is
  // true and which keeps invalid rows for train() to refuse), sbi's NLE defaults to
  // exclude_invalid_x = false and then throws cusbi::Error when a row of x or theta holds NaN or
  // +-inf (sbi looks at x only; a NaN theta would make the loss NaN), naming how many and what
  // to do: dropping them biases the likelihood (Gloeckler et al. 2021). With
  // exclude_invalid_x = true they are dropped, and (as sbi, even when none is found) a warning
  // says the results may be systematically wrong. Returns *this.
  NLE& append_simulations(const Tensor& theta, const Tensor& x, bool exclude_invalid_x = false);

  // Trains (see TrainOptions) and returns the trained flow q(x | theta), owned by this NLE:
  // later train() calls change it. The network is built on the first call (or with
  // retrain_from_scratch) from the training rows only. Throws cusbi::Error when there are no or
  // too few simulations, bad options, or a non-finite epoch loss (the best weights so far are
  // restored first).
  NeuralSplineFlow& train(const TrainOptions& options = {});

  // sbi's build_posterior() with its default sample_with="mcmc": an MCMCPosterior over
  // likelihood_estimator_based_potential(deep copy of the trained flow, prior) (so later
  // training does not change it), proposal = prior, the prior's theta transform, and `options`
  // (sbi's MCMC defaults: slice_np_vectorized, 20 chains, warm-up 200, thin 1, resample init).
  // Set the observation with set_default_x or pass it to sample(). Throws before train().
  MCMCPosterior build_posterior(const MCMCOptions& options = {}) const;

  const TrainingSummary& summary() const;
  // The trained flow q(x | theta); throws when train() has not run.
  NeuralSplineFlow& density_estimator();
  const NeuralSplineFlow& density_estimator() const;
  const Distribution& prior() const;
  Device device() const;

  // The simulations held (after exclusion), on device(): theta (N, D), x (N, C).
  const Tensor& theta() const;
  const Tensor& x() const;
  int64_t num_simulations() const;
  // The last train()'s split, as row indices into theta()/x(); empty before train().
  const std::vector<int64_t>& train_indices() const;
  const std::vector<int64_t>& validation_indices() const;

 private:
  std::unique_ptr<detail::NleState> impl_;
};

}  // namespace cusbi
