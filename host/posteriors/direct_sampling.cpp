// DirectPosterior::sample and sample_batched: sbi's rejection of flow samples outside the
// prior's support (host/posteriors/rejection.cpp), or, with reject_outside_prior = false, the
// flow's samples as they are with a warning when more than 5% lie outside the support.
#include <cstdio>
#include <string>

#include "cusbi/error.hpp"
#include "cusbi/progress.hpp"
#include "host/posteriors/direct_posterior_impl.hpp"
#include "host/posteriors/rejection.hpp"

namespace cusbi {

namespace {

constexpr double kOutsideWarnFraction = 0.05;  // sbi's warn_if_outside_prior_support threshold
constexpr int64_t kBatchedWarnSamples = int64_t{1} << 21;  // sbi: B n > 2^21 is "slow"
constexpr int64_t kBatchedProposalCap = 100000;            // sbi: max batch x B <= 100,000

// samples (..., D): warns when more than 5% lie outside the prior's support.
void warn_if_outside_support(const Distribution& prior, const Tensor& samples) {
  if (samples.numel() == 0) return;
  const Tensor mask = prior.support_mask(samples).reshape({-1});
  const double outside = 1.0 - static_cast<double>(sum_all(mask)) / mask.numel();
  if (outside <= kOutsideWarnFraction) return;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f%%", 100.0 * outside);
  warn(std::string(buffer) +
       " of samples drawn with reject_outside_prior = false lie outside "
       "the prior support. This may lead to incorrect inference.");
}

posteriors::RejectionConfig rejection_config(int64_t n, int64_t max_batch,
                                             const SampleOptions& options) {
  CUSBI_CHECK(
      options.max_sampling_time >= 0.0,
      "max_sampling_time must be >= 0 seconds (0: no limit), got " << options.max_sampling_time);
  posteriors::RejectionConfig config;
  config.num_samples = n;
  config.max_batch = max_batch;
  config.show_progress = options.show_progress;
  config.max_time = options.max_sampling_time;
  config.partial_on_timeout = options.return_partial_on_timeout;
  config.generator = options.generator;
  return config;
}

// The sample shape with its number of samples replaced by the rows a partial run returned.
Shape output_shape(const Shape& sample_shape, int64_t n, int64_t rows, const Shape& tail) {
  Shape out = rows == n ? sample_shape : Shape{rows};
  out.insert(out.end(), tail.begin(), tail.end());
  return out;
}

}  // namespace

Tensor DirectPosterior::sample(const Shape& sample_shape, const Tensor& x,
                               const SampleOptions& options) {
  Impl& s = *impl_;
  const Tensor condition = s.single_observation(x, "sample", "sample_batched");
  const int64_t n = shape_numel(sample_shape), d = s.theta_dim();
  CUSBI_CHECK(options.max_sampling_batch_size >= 1,
              "max_sampling_batch_size must be >= 1, got " << options.max_sampling_batch_size);
  if (!options.reject_outside_prior) {
    const Tensor samples = s.estimator->sample({n}, condition, options.generator);  // (n, 1, D)
    warn_if_outside_support(*s.prior, samples);
    s.last_rates = {1.0f};
    return samples.reshape(output_shape(sample_shape, n, n, {d}));
  }
  const posteriors::RejectionRun run = posteriors::accept_reject_sample(
      *s.estimator, *s.prior, condition,
      rejection_config(n, options.max_sampling_batch_size, options));
  s.last_rates = run.rates;
  return run.samples.reshape(output_shape(sample_shape, n, run.rows, {d}));
}

Tensor DirectPosterior::sample_batched(const Shape& sample_shape, const Tensor& xs,
                                       const SampleOptions& options) {
  Impl& s = *impl_;
  const Tensor condition = s.observations(xs, "sample_batched");
  const int64_t n = shape_numel(sample_shape), nobs = condition.size(0), d = s.theta_dim();
  CUSBI_CHECK(options.max_sampling_batch_size >= 1,
              "max_sampling_batch_size must be >= 1, got " << options.max_sampling_batch_size);
  if (nobs * n > kBatchedWarnSamples)
    warn("Note that for batched sampling, the direct posterior sampling generates " +
         std::to_string(nobs) + " * " + std::to_string(n) + " = " + std::to_string(nobs * n) +
         " samples. This can be slow and memory-intensive. Consider reducing the number of "
         "samples or batch size.");
  int64_t max_batch = options.max_sampling_batch_size;
  if (max_batch * nobs > kBatchedProposalCap) {
    const int64_t capped = std::max<int64_t>(1, kBatchedProposalCap / nobs);
    warn("Capping max_sampling_batch_size from " + std::to_string(max_batch) + " to " +
         std::to_string(capped) + " to avoid excessive memory usage.");
    max_batch = capped;
  }
  if (!options.reject_outside_prior) {
    const Tensor samples = s.estimator->sample({n}, condition, options.generator);  // (n, B, D)
    warn_if_outside_support(*s.prior, samples);
    s.last_rates.assign(static_cast<size_t>(nobs), 1.0f);
    return samples.reshape(output_shape(sample_shape, n, n, {nobs, d}));
  }
  const posteriors::RejectionRun run = posteriors::accept_reject_sample(
      *s.estimator, *s.prior, condition, rejection_config(n, max_batch, options));
  s.last_rates = run.rates;
  return run.samples.reshape(output_shape(sample_shape, n, run.rows, {nobs, d}));
}

}  // namespace cusbi
