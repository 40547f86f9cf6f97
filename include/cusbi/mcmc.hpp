// MCMC posteriors, as sbi's MCMCPosterior with its default sampler, slice_np_vectorized
// (spec mcmc_nre.md §1-2): coordinate-wise slice sampling with many chains in lockstep, in the
// unconstrained space z = T(theta) of the theta transform, started by sbi's init strategies.
// Each lockstep iteration evaluates the potential for all chains in one batched call and
// advances every chain's state machine in one kernel (a CUDA thread or a CPU loop iteration
// per chain); on a GPU the loop stays on the device and the host checks for finished chains
// only every few iterations (last_run() counts them).
// Any Potential samples through it: the NLE/NPE/NRE builders' or a user's own function
// (potential_from_function).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cusbi/diagnostics.hpp"
#include "cusbi/distributions.hpp"
#include "cusbi/posteriors.hpp"
#include "cusbi/potentials.hpp"
#include "cusbi/random.hpp"
#include "cusbi/tensor.hpp"

namespace cusbi {

// sbi's init_strategy_parameters.
struct InitStrategyParameters {
  // Candidates drawn from the proposal per chain (resample, sir): sbi's 10,000.
  int64_t num_candidate_samples = 10000;
  int64_t num_batches = 1;  // resample draws num_batches x num_candidate_samples candidates
  // true: all chains draw their start from one common pool of candidates (evaluated once);
  // false: each chain from a pool of its own, as sbi does. Each chain's start has exactly sbi's
  // distribution either way (a categorical draw from num_candidate_samples proposal draws
  // weighted by exp(potential)); with a common pool the chains' starts are dependent and may
  // coincide (the chains still move independently from there), and the init costs
  // num_candidate_samples potential evaluations instead of num_chains times as many (sbi's
  // tutorial: 10,000 instead of 500,000, most of its MCMC time on a CPU).
  bool shared_candidates = true;
};

// What to do with a chain whose current point has a potential of -inf, +inf or NaN (sbi would
// step out forever): stop with a cusbi::Error naming the chain (Raise), or leave it out of the
// samples with a warning (Drop). A run where every chain fails always throws.
enum class InvalidChainPolicy { Raise, Drop };

// sbi's MCMCPosterior parameters (defaults of sbi 0.27). Designated initialisers follow this
// order: {.num_chains = 50, .thin = 1, .warmup_steps = 200, .method = ..., .init_strategy = ...}.
struct MCMCOptions {
  int64_t num_chains = 20;
  int64_t thin = 1;                            // sbi's -1 sentinel means 1; 1..10 as sbi validates
  int64_t warmup_steps = 200;                  // W: kept sweeps dropped per chain (W·thin sweeps)
  std::string method = "slice_np_vectorized";  // the one method cusbi has
  // "resample" (sbi's default), "proposal", "sir", "latest_sample" (continue each chain from the
  // last run's final state; needs a previous run with at least as many chains).
  std::string init_strategy = "resample";
  InitStrategyParameters init_strategy_parameters = {};
  bool show_progress = true;  // "Running vectorized MCMC with C chains: i/total"
  InvalidChainPolicy invalid_chains = InvalidChainPolicy::Raise;
  // Seeds the chains' counter-based streams (keyed by seed, chain, draw), the init draws and
  // the proposal's samples; the default generator when null.
  Generator* generator = nullptr;
};

// What the last sampling run did, for benchmarks and for users who wonder why it was slow.
struct MCMCRunInfo {
  int64_t num_chains = 0;
  int64_t sweeps_per_chain = 0;        // 50 tuning + W·T + ceil(N·T/C)
  int64_t iterations = 0;              // lockstep iterations = batched potential calls
  int64_t potential_evaluations = 0;   // rows evaluated while sampling (iterations x chains)
  int64_t init_evaluations = 0;        // rows evaluated by the init strategy
  int64_t host_round_trips = 0;        // times the sampling loop waited for the device
  int64_t capped_step_outs = 0;        // coordinate updates whose stepping out hit its cap
  int64_t stalled_shrinks = 0;         // updates whose shrinkage collapsed onto the current point
  std::vector<int64_t> failed_chains;  // chains whose point became invalid (Drop policy)
  double init_seconds = 0.0;           // the init strategy alone, wall clock
  double seconds = 0.0;                // init and sampling, wall clock
};

// A user's potential from a function of a batch of theta (M, D) on `device` to log densities
// (M,) on that device; unnormalised is fine. Called with every chain's point at once.
// Without gradient (MAP needs potential_from_function's gradient form below).
using PotentialFunction = std::function<Tensor(const Tensor& theta)>;
std::shared_ptr<Potential> potential_from_function(PotentialFunction function, int64_t dim,
                                                   Device device = Device::best());

class MCMCPosterior {
 public:
  // The potential (untransformed: log p~(theta | x) in theta space, as the builders return it),
  // the proposal that init strategies draw from (the prior), and the theta transform from the
  // potential builder (sampling runs in z = T(theta); the identity when default-constructed).
  // The proposal is copied onto the potential's device.
  MCMCPosterior(std::shared_ptr<Potential> potential, const Distribution& proposal,
                ThetaTransform theta_transform = {}, MCMCOptions options = {});
  ~MCMCPosterior();
  MCMCPosterior(MCMCPosterior&&) noexcept;
  MCMCPosterior& operator=(MCMCPosterior&&) noexcept;

  // x (C,) or (n, C) (n iid trials for NLE/NRE potentials). Returns *this.
  MCMCPosterior& set_default_x(const Tensor& x);
  const Tensor& default_x() const;  // undefined until set

  // numel(sample_shape) = N samples of theta (*sample_shape, D), for x (the default x when
  // undefined; a potential without observation, such as a user's function, needs none).
  // The chains run 50 + W·T + ceil(N·T/C) sweeps; every T-th recorded sweep is kept, the first W
  // kept ones dropped, and the rest taken chain-major (all of chain 0's, then chain 1's, ...)
  // and truncated to N, as sbi. `options` replaces the posterior's options for this call.
  Tensor sample(const Shape& sample_shape, const Tensor& x = Tensor());
  Tensor sample(const Shape& sample_shape, const Tensor& x, const MCMCOptions& options);

  // For each of the B observations xs (B, C): num_chains chains of its own (all B·C chains in
  // one lockstep run, the potential pairing chain rows with their observation), returning
  // (*sample_shape, B, D) as sbi. num_chains is capped at numel(sample_shape) with a warning.
  // Needs a potential with Potential::supports_paired_x().
  Tensor sample_batched(const Shape& sample_shape, const Tensor& xs);
  Tensor sample_batched(const Shape& sample_shape, const Tensor& xs, const MCMCOptions& options);

  // The unnormalised log posterior, potential(theta) in theta space (no transform, no Jacobian),
  // for theta (M, D) or (D,), as sbi's log_prob (which warns that it is unnormalised).
  Tensor log_prob(const Tensor& theta, const Tensor& x = Tensor());

  // sbi's MCMCPosterior.map: gradient ascent on the potential in z space from the best of
  // num_init_samples draws of the proposal (sbi's init_method="proposal"), or from
  // options.init. Needs a potential with a gradient. Cached for the default x.
  Tensor map(const MapOptions& options = {});

  // Of the last sample() run (after warm-up, before truncation to N): per-chain samples in
  // theta space (C, n, D), and their split R-hat and bulk / tail ESS per dimension. sbi's
  // arviz how-to includes the warm-up sweeps; these do not. Throws before the first run.
  const Tensor& chains() const;
  Diagnostics diagnostics() const;
  const MCMCRunInfo& last_run() const;

  const MCMCOptions& options() const;
  void set_options(const MCMCOptions& options);
  std::shared_ptr<Potential> potential() const;
  const Distribution& proposal() const;
  const ThetaTransform& theta_transform() const;
  Device device() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cusbi
