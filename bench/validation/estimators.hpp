// The three estimators as sbibm runs them (benchmarking_sbi's algorithm settings, spec
// validation.md §2d), behind one shape: train on (theta, x), then draw posterior samples for a
// batch of observations. NPE samples its DirectPosterior by rejection; NLE and NRE sample an
// MCMCPosterior with sbibm's slice-sampler settings, 100 chains per observation in one lockstep
// run (sample_batched).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "cusbi/cusbi.hpp"

namespace cusbi_validation {

struct EstimatorRun {
  // xs (B, C) -> (num_samples, B, D) on the estimator's device.
  std::function<cusbi::Tensor(const cusbi::Tensor& xs, int64_t num_samples)> sample;
  int64_t epochs = 0;  // the training loop's epochs until early stopping
};

// algorithm: "npe", "nle" or "nre". Trains with sbi's defaults and sbibm's one change to them,
// training_batch_size = min(10,000, number of simulations).
EstimatorRun train_estimator(const std::string& algorithm, const cusbi::Distribution& prior,
                             const cusbi::Tensor& theta, const cusbi::Tensor& x,
                             cusbi::Device device, cusbi::Generator& generator, bool show_progress);

bool known_algorithm(const std::string& algorithm);

}  // namespace cusbi_validation
