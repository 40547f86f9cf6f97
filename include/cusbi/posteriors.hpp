// Posteriors built from a trained estimator. DirectPosterior is sbi's DirectPosterior for NPE:
// the flow q(theta | x) restricted to the prior's support. Sampling rejects flow samples
// outside the support (sbi's accept_reject_sample with its adaptive batch rule); log_prob
// subtracts log Z, Z = P_q(theta in support | x), estimated from 10,000 accepted samples
// (sbi's leakage correction); map is sbi's gradient ascent in the unconstrained space.
// Shapes: x is one observation, (C,) or (1, C); xs (B, C) is a batch of observations.
// Work runs on the estimator's device; results are on that device.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>

#include "cusbi/distributions.hpp"
#include "cusbi/flows.hpp"
#include "cusbi/potentials.hpp"
#include "cusbi/random.hpp"
#include "cusbi/tensor.hpp"

namespace cusbi {

// sbi's sample() keyword arguments.
struct SampleOptions {
  int64_t max_sampling_batch_size = 10000;
  bool show_progress = true;
  // false: return the flow's samples as they are (a warning when more than 5% lie outside the
  // prior's support), as sbi's reject_outside_prior=False.
  bool reject_outside_prior = true;
  // Seconds; 0 means no limit. When exceeded, sampling throws cusbi::Error, or, with
  // return_partial_on_timeout, returns the accepted samples so far (fewer rows) with a warning.
  double max_sampling_time = 0.0;
  bool return_partial_on_timeout = false;
  Generator* generator = nullptr;  // the default generator when null
};

// sbi's log_prob() keyword arguments.
struct LogProbOptions {
  bool norm_posterior = true;             // subtract log(acceptance rate): the leakage correction
  int64_t num_rejection_samples = 10000;  // accepted samples that estimate the acceptance rate
  bool force_update = false;              // recompute the cached rate for the default x
};

// sbi's map() keyword arguments.
struct MapOptions {
  int64_t num_iter = 1000;
  int64_t num_to_optimize = 100;
  float learning_rate = 0.01f;
  int64_t num_init_samples = 1000;
  int64_t save_best_every = 10;
  bool show_progress = false;
  bool force_update = false;  // recompute even when a MAP for the default x is cached
  Tensor init;                // (N, D) starting points; undefined: num_init_samples from sample()
};

class DirectPosterior {
 public:
  // Shares `estimator` (trained by the caller or an NPE trainer). The prior is copied onto the
  // estimator's device. The prior's event size must equal the estimator's input size.
  DirectPosterior(std::shared_ptr<NeuralSplineFlow> estimator, const Distribution& prior);
  // Deep-copies the estimator (as sbi's build_posterior does), so later training of `estimator`
  // does not change this posterior.
  DirectPosterior(const NeuralSplineFlow& estimator, const Distribution& prior);
  ~DirectPosterior();
  DirectPosterior(DirectPosterior&&) noexcept;
  DirectPosterior& operator=(DirectPosterior&&) noexcept;

  // x (C,) or (1, C), finite. Clears the cached MAP and leakage factor. Returns *this.
  DirectPosterior& set_default_x(const Tensor& x);
  // The default observation as (1, C); undefined until set_default_x.
  const Tensor& default_x() const;

  // numel(sample_shape) samples for one observation x (the default x when x is undefined),
  // returned as (*sample_shape, D). Rejection as sbi: first batch min(n, max batch), then
  // min(max batch, max(int(1.5 * remaining / max(rate, 1e-12)), 100)); one warning when the
  // acceptance rate is below 1%.
  Tensor sample(const Shape& sample_shape, const Tensor& x = Tensor(),
                const SampleOptions& options = {});
  // numel(sample_shape) samples for each of the B observations xs (B, C): returns
  // (*sample_shape, B, D). Acceptance is tracked per observation; an observation that has its
  // samples stops drawing, so each batch proposes only for the unfinished ones. The batch is
  // capped at max(1, 100000 / B) per observation, with a warning, as sbi does.
  Tensor sample_batched(const Shape& sample_shape, const Tensor& xs,
                        const SampleOptions& options = {});

  // log q(theta | x) - log Z for theta (N, D) (or (D,)), -inf outside the prior's support;
  // returns (N,). Z is the acceptance rate of rejection sampling (cached for the default x).
  Tensor log_prob(const Tensor& theta, const Tensor& x = Tensor(),
                  const LogProbOptions& options = {});
  // theta (S, B, D) or (B, D), xs (B, C) -> (S, B), each observation with its own Z.
  Tensor log_prob_batched(const Tensor& theta, const Tensor& xs,
                          const LogProbOptions& options = {});
  // Z = accepted / proposed of rejection sampling until num_rejection_samples are accepted.
  // Cached when x is the default x (recomputed with force_update), computed afresh otherwise.
  float leakage_correction(const Tensor& x, int64_t num_rejection_samples = 10000,
                           bool force_update = false);

  // The maximum a posteriori estimate for the default x, (1, D); cached until the default x
  // changes or options.force_update. Throws when no default x is set.
  Tensor map(const MapOptions& options = {});

  // Acceptance rate (accepted / proposed) of the last sample() / sample_batched() call, per
  // observation.
  const std::vector<float>& last_acceptance_rates() const;

  NeuralSplineFlow& estimator();
  const NeuralSplineFlow& estimator() const;
  std::shared_ptr<NeuralSplineFlow> shared_estimator() const;
  const Distribution& prior() const;
  const ThetaTransform& theta_transform() const;
  Device device() const;
  // sbi's posterior_estimator_based_potential for this estimator and prior (shared, not a copy):
  // log q(theta | x) at the default x, -inf outside the prior's support, with its gradient; no
  // x until set_default_x. Pair it with theta_transform() (TransformedPotential) to sample.
  std::shared_ptr<Potential> potential() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cusbi
