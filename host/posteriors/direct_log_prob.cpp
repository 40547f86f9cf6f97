// DirectPosterior::log_prob, log_prob_batched and leakage_correction: the flow's density set
// to -inf outside the prior's support, minus log Z with Z = P_q(theta in support | x) estimated
// as the acceptance rate of rejection sampling (sbi's leakage correction). Z is cached for the
// default x only; any other x is estimated afresh on each call, as sbi does.
#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "cusbi/error.hpp"
#include "host/posteriors/direct_posterior_impl.hpp"
#include "host/posteriors/rejection.hpp"

namespace cusbi {

namespace {

constexpr int64_t kLeakageBatch = 10000;  // sbi's rejection_sampling_batch_size
// Proposals per batch over all observations at most, as sample_batched caps them (sbi's 100,000):
// log_prob_batched for 1000 observations would otherwise propose 10^7 rows at once.
constexpr int64_t kMaxProposalsPerBatch = 100000;

// Acceptance rate per observation of rejection until num_samples are accepted for each.
std::vector<float> acceptance_rates(NeuralSplineFlow& flow, const Distribution& prior,
                                    const Tensor& condition, int64_t num_samples) {
  CUSBI_CHECK(num_samples >= 1, "num_rejection_samples must be >= 1, got " << num_samples);
  posteriors::RejectionConfig config;
  config.num_samples = num_samples;
  config.max_batch =
      std::min(kLeakageBatch, std::max<int64_t>(1, kMaxProposalsPerBatch / condition.size(0)));
  config.keep_samples = false;
  config.purpose = posteriors::RejectionPurpose::LeakageCorrection;
  return posteriors::accept_reject_sample(flow, prior, condition, config).rates;
}

// lp (..., ) of theta (..., D): -inf where theta lies outside the support.
Tensor mask_outside_support(const Tensor& lp, const Distribution& prior, const Tensor& theta) {
  return lp + log(prior.support_mask(theta).reshape(lp.shape()));  // log 0 = -inf
}

// theta (N, D) or (D,) as (N, D) on the device, width checked.
Tensor theta_rows(const Tensor& theta, int64_t d, Device device, const char* who) {
  CUSBI_CHECK(theta.defined() && theta.dim() >= 1 && theta.dim() <= 2 && theta.size(-1) == d,
              who << ": theta has shape " << (theta.defined() ? shape_str(theta.shape()) : "()")
                  << ", the posterior is over " << d << " parameters; pass (N, " << d << ") or ("
                  << d << ",)");
  return theta.reshape({-1, d}).to(device);
}

}  // namespace

float DirectPosterior::leakage_correction(const Tensor& x, int64_t num_rejection_samples,
                                          bool force_update) {
  Impl& s = *impl_;
  const Tensor condition = s.single_observation(x, "leakage_correction", "log_prob_batched");
  if (!s.is_default_x(condition))
    return acceptance_rates(*s.estimator, *s.prior, condition, num_rejection_samples)[0];
  if (!s.leakage || force_update)
    s.leakage = acceptance_rates(*s.estimator, *s.prior, s.default_x, num_rejection_samples)[0];
  return *s.leakage;
}

Tensor DirectPosterior::log_prob(const Tensor& theta, const Tensor& x,
                                 const LogProbOptions& options) {
  Impl& s = *impl_;
  const Tensor condition = s.single_observation(x, "log_prob", "log_prob_batched");
  const Tensor rows = theta_rows(theta, s.theta_dim(), s.device(), "log_prob");
  const Tensor masked = s.masked_log_prob(rows, condition);
  if (!options.norm_posterior) return masked;
  const float z =
      leakage_correction(condition, options.num_rejection_samples, options.force_update);
  return masked - std::log(z);
}

Tensor DirectPosterior::log_prob_batched(const Tensor& theta, const Tensor& xs,
                                         const LogProbOptions& options) {
  Impl& s = *impl_;
  const Tensor condition = s.observations(xs, "log_prob_batched");
  const int64_t nobs = condition.size(0), d = s.theta_dim();
  CUSBI_CHECK(theta.defined() && (theta.dim() == 2 || theta.dim() == 3) && theta.size(-1) == d &&
                  theta.size(-2) == nobs,
              "log_prob_batched: theta has shape "
                  << (theta.defined() ? shape_str(theta.shape()) : "()") << " for " << nobs
                  << " observations of a posterior over " << d << " parameters; pass (S, " << nobs
                  << ", " << d << ") or (" << nobs << ", " << d << ")");
  const Tensor input = theta.reshape({-1, nobs, d}).to(s.device());
  const Tensor lp = s.estimator->log_prob(input, condition);  // (S, B)
  const Tensor masked = mask_outside_support(lp, *s.prior, input);
  if (!options.norm_posterior) return masked;

  // Z per observation: the cached value where a row is the default x, one batched rejection
  // run (each observation stopping when it has its samples) for the others.
  std::vector<float> log_z(static_cast<size_t>(nobs));
  std::vector<int64_t> fresh;
  std::optional<float> default_log_z;  // force_update recomputes it once, not once per row
  // One host copy of each to compare the rows with the default x.
  const std::vector<float> host_xs = condition.to_vector();
  const std::vector<float> host_default =
      s.default_x.defined() ? s.default_x.to_vector() : std::vector<float>();
  const size_t c = static_cast<size_t>(s.x_dim());
  for (int64_t b = 0; b < nobs; ++b) {
    if (host_default.empty() ||
        !std::equal(host_default.begin(), host_default.end(), host_xs.begin() + b * c)) {
      fresh.push_back(b);
      continue;
    }
    if (!default_log_z)
      default_log_z = std::log(
          leakage_correction(s.default_x, options.num_rejection_samples, options.force_update));
    log_z[b] = *default_log_z;
  }
  if (!fresh.empty()) {
    std::vector<Tensor> rows;
    for (int64_t b : fresh) rows.push_back(condition.slice_rows(b, b + 1));
    const std::vector<float> rates =
        acceptance_rates(*s.estimator, *s.prior, cat(rows, 0), options.num_rejection_samples);
    for (size_t k = 0; k < fresh.size(); ++k) log_z[fresh[k]] = std::log(rates[k]);
  }
  return masked - Tensor::from(log_z, {nobs}, s.device());
}

}  // namespace cusbi
