// MCMCPosterior's state (host-private): the potential and what sampling composes it with, the
// chains' buffers kept between runs (sized once per chain count), and the last run's results.
#pragma once
#include <memory>
#include <optional>

#include "cusbi/mcmc.hpp"
#include "host/mcmc/slice_run.hpp"

namespace cusbi {

struct MCMCPosterior::Impl {
  std::shared_ptr<Potential> potential;               // theta space, as the builder returned it
  std::unique_ptr<Distribution> proposal;             // on the potential's device
  ThetaTransform transform;                           // on the potential's device
  std::shared_ptr<TransformedPotential> z_potential;  // what the chains sample
  MCMCOptions options;
  Tensor default_x;
  Tensor map;  // cached MAP for the default x
  bool warned_log_prob = false;
  bool paired = false;  // the potential holds sample_batched's rows

  std::unique_ptr<mcmc::SliceRun> run;  // reused while (chains, D, kept) stay the same
  int64_t run_num_chains = 0, run_kept = 0;
  Tensor chains;         // (C, n, D) theta of the last run
  Tensor latest;         // (C, D) z: each chain's last kept state
  bool batched = false;  // the last run was sample_batched
  MCMCRunInfo info;

  Device device() const { return potential->device(); }
  int64_t dim() const { return potential->dim(); }
  // Sets the potential's observation for a sample/log_prob call: x, else the default x, else
  // whatever the potential holds (a user function needs none).
  void use_x(const Tensor& x);
  // Runs `chains` chains from z-space init for sbi's num_samples (its sweep budget), storing
  // `chains`/`latest`/`info`; returns the kept samples in theta space (C', n, D) of the
  // surviving chains.
  Tensor run_chains(int64_t chains, int64_t num_samples, const MCMCOptions& options,
                    const Tensor& init, Generator& generator, int64_t init_evaluations);
};

// Throws cusbi::Error naming the first unusable field.
void check_mcmc_options(const MCMCOptions& options);

}  // namespace cusbi
