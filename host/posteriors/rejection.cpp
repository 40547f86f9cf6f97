// Rejection sampling against the prior's support (sbi's accept_reject_sample), for B
// observations at once. Unlike sbi, which keeps proposing for every observation until the last
// one is done, an observation that has its samples drops out of later batches (their condition
// holds only the unfinished rows). With one observation the batch sequence, acceptance rate and
// warning are exactly sbi's.
#include "host/posteriors/rejection.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <string>

#include "cusbi/error.hpp"
#include "cusbi/progress.hpp"
#include "host/posteriors/accepted_rows.hpp"

namespace cusbi::posteriors {

namespace {

constexpr double kWarnAcceptance = 0.01;  // sbi's warn_acceptance

std::string percent(double rate) {  // Python's f"{rate:.3%}"
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f%%", 100.0 * rate);
  return buffer;
}

void warn_low_acceptance(RejectionPurpose purpose, double rate, int64_t observation,
                         int64_t num_observations, int64_t remaining) {
  const std::string which =
      num_observations > 1 ? " (for observation " + std::to_string(observation) + ")" : "";
  if (purpose == RejectionPurpose::LeakageCorrection) {
    warn(
        "Drawing samples from the posterior to estimate the normalizing constant for "
        "log_prob(). However, only " +
        percent(rate) +
        " of the posterior samples are within "
        "the prior support" +
        which + ". It may take a long time to collect the remaining " + std::to_string(remaining) +
        " samples. Consider basing the estimate of the normalizing "
        "constant on fewer samples (leakage_correction(x, num_rejection_samples) or "
        "LogProbOptions::num_rejection_samples), or not estimating it at all "
        "(LogProbOptions::norm_posterior = false), which gives an unnormalized log_prob().");
  } else {
    warn("Only " + percent(rate) + " of the proposal samples are accepted" + which +
         ". It may take a long time to collect the remaining " + std::to_string(remaining) +
         " samples. You can prevent very long runtimes by setting "
         "SampleOptions::max_sampling_time to limit runtime, or by disabling rejection "
         "sampling (SampleOptions::reject_outside_prior = false). Alternatively, consider "
         "sampling with MCMC (MCMCPosterior).");
  }
}

// The unfinished observations' rows of condition (B, C): the condition of the next batch.
Tensor active_condition(const Tensor& condition, const std::vector<int64_t>& active) {
  if (static_cast<int64_t>(active.size()) == condition.size(0)) return condition;
  std::vector<Tensor> rows;
  rows.reserve(active.size());
  for (int64_t b : active) rows.push_back(condition.slice_rows(b, b + 1));
  return cat(rows, 0);
}

// Per-observation state of the loop: the accepted samples (on the flow's device), the counts
// the adaptive rule reads on the host, and the trace of batches.
struct Accumulator {
  int64_t n, dim;
  AcceptedRows rows;
  std::vector<int64_t> accepted, proposed;
  RejectionRun trace;  // only the batch_* fields

  Accumulator(int64_t num_samples, int64_t theta_dim, int64_t nobs, bool keep, Device device)
      : n(num_samples),
        dim(theta_dim),
        rows(num_samples, nobs, theta_dim, keep, device),
        accepted(nobs, 0),
        proposed(nobs, 0) {}
  int64_t observations() const { return static_cast<int64_t>(accepted.size()); }
  double rate(int64_t b) const {
    return proposed[b] > 0 ? static_cast<double>(accepted[b]) / proposed[b]
                           : std::numeric_limits<double>::quiet_NaN();
  }
  int64_t collected() const {  // samples every observation has (sbi's num_collected)
    int64_t k = std::numeric_limits<int64_t>::max();
    for (int64_t a : accepted) k = std::min(k, a);
    return k;
  }
  int64_t total_accepted() const {
    return std::accumulate(accepted.begin(), accepted.end(), int64_t{0});
  }
};

// One batch of m proposals for each active observation. The accepted ones are compacted on the
// device (the first n of each observation kept, in proposal order: the overshoot of the last
// batch counts towards the rate but is never returned); one host copy, of the counts.
void run_batch(NeuralSplineFlow& flow, const Distribution& prior, const Tensor& condition,
               const std::vector<int64_t>& active, int64_t m, const RejectionConfig& config,
               Accumulator& acc) {
  const Tensor samples = flow.sample({m}, active_condition(condition, active), config.generator);
  const Tensor mask = prior.support_mask(samples);  // (m, nb)
  const std::vector<int64_t>& counts = acc.rows.add(samples, mask, active);
  for (size_t k = 0; k < active.size(); ++k) {
    acc.proposed[active[k]] += m;
    acc.accepted[active[k]] += counts[k];
  }
}

// A batch with nothing accepted: if the estimator draws NaN/Inf (e.g. NaN weights after a
// diverged training), nothing would ever be accepted and the loop would never end, so fail.
void check_samples_finite(NeuralSplineFlow& flow, const Tensor& condition,
                          const RejectionConfig& config) {
  Generator probe(config.generator ? config.generator->seed() + 1 : 1);
  const Tensor samples = flow.sample({16}, condition, &probe);
  CUSBI_CHECK(all_finite(samples) && all_finite(flow.parameters()),
              "rejection sampling: the estimator draws NaN or infinite samples (are its "
              "parameters finite? training may have diverged), so no sample can be accepted; "
              "retrain it, or check the observation");
}

[[noreturn]] void fail_timeout(const RejectionConfig& config, const Accumulator& acc) {
  double rate = 1.0;
  for (size_t b = 0; b < acc.accepted.size(); ++b)
    if (acc.proposed[b] > 0) rate = std::min(rate, acc.rate(b));
  const bool proposed = acc.proposed.empty() || acc.proposed[0] > 0;
  CUSBI_FAIL("rejection sampling exceeded max_sampling_time ("
             << config.max_time << " s) after collecting " << acc.collected() << "/"
             << config.num_samples << " samples ("
             << (proposed ? "acceptance rate " + percent(rate) : std::string("no batch drawn yet"))
             << "). This is likely due to extremely low acceptance: the estimator puts most "
                "of its mass outside the prior's support. Draw directly from the estimator "
                "with SampleOptions::reject_outside_prior = false, ask for partial results "
                "with return_partial_on_timeout, switch to MCMC, or check the model for "
                "misspecification.");
}

RejectionRun finish(Accumulator& acc, int64_t rows, const RejectionConfig& config) {
  RejectionRun run = std::move(acc.trace);
  run.rows = rows;
  if (config.keep_samples) run.samples = acc.rows.samples(rows);
  run.accepted = acc.accepted;
  run.proposed = acc.proposed;
  for (size_t b = 0; b < acc.accepted.size(); ++b)
    run.rates.push_back(static_cast<float>(acc.rate(b)));
  return run;
}

}  // namespace

int64_t next_batch_size(int64_t max_batch, int64_t remaining, double rate) {
  // In double first: 1.5 remaining / 1e-12 does not fit an int64 for large remainders.
  const double wanted = 1.5 * static_cast<double>(remaining) / std::max(rate, 1e-12);
  const double capped =
      std::min(static_cast<double>(max_batch), std::max(std::floor(wanted), 100.0));
  return static_cast<int64_t>(capped);
}

// After a batch: the next batch size by sbi's rule, the low-acceptance warning (once), and the
// observations still unfinished. The rule's inputs come from the unfinished observations (with
// one observation, as sbi); the warning looks at every observation of this batch.
static std::vector<int64_t> after_batch(const std::vector<int64_t>& active,
                                        const RejectionConfig& config, const Accumulator& acc,
                                        int64_t& m, bool& warned) {
  std::vector<int64_t> unfinished;
  int64_t remaining = 0;
  double rule_rate = 1.0;
  for (int64_t b : active)
    if (acc.accepted[b] < acc.n) {
      unfinished.push_back(b);
      remaining = std::max(remaining, acc.n - acc.accepted[b]);
      rule_rate = std::min(rule_rate, acc.rate(b));
    }
  if (unfinished.empty())
    for (int64_t b : active) rule_rate = std::min(rule_rate, acc.rate(b));
  m = next_batch_size(config.max_batch, remaining, rule_rate);
  for (int64_t b : active) {
    if (warned || !(acc.proposed[b] > m - 1 && acc.rate(b) < kWarnAcceptance)) continue;
    warn_low_acceptance(config.purpose, acc.rate(b), b, acc.observations(),
                        std::max<int64_t>(0, acc.n - acc.accepted[b]));
    warned = true;
  }
  return unfinished;
}

RejectionRun accept_reject_sample(NeuralSplineFlow& flow, const Distribution& prior,
                                  const Tensor& condition, const RejectionConfig& config) {
  const int64_t nobs = condition.size(0), n = config.num_samples;
  CUSBI_CHECK(n >= 0, "the number of samples must be >= 0, got " << n);
  CUSBI_CHECK(config.max_batch >= 1,
              "max_sampling_batch_size must be >= 1, got " << config.max_batch);
  Accumulator acc(n, flow.input_features(), nobs, config.keep_samples, flow.device());
  std::vector<int64_t> active;
  for (int64_t b = 0; n > 0 && b < nobs; ++b) active.push_back(b);

  ProgressLine progress("Drawing " + std::to_string(n) + " posterior samples" +
                            (nobs > 1 ? " for " + std::to_string(nobs) + " observations" : ""),
                        n, config.show_progress);
  const auto start = std::chrono::steady_clock::now();
  int64_t m = std::min(n, config.max_batch);
  bool warned = false;
  while (!active.empty()) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (config.max_time > 0.0 && elapsed > config.max_time) {
      const int64_t collected = acc.collected();
      if (!(config.partial_on_timeout && collected > 0)) fail_timeout(config, acc);
      warn("Timeout exceeded after collecting " + std::to_string(collected) + "/" +
           std::to_string(n) + " samples. Returning partial results.");
      return finish(acc, collected, config);
    }
    const int64_t accepted_before = acc.total_accepted();
    run_batch(flow, prior, condition, active, m, config, acc);
    if (acc.total_accepted() == accepted_before) check_samples_finite(flow, condition, config);
    acc.trace.batch_sizes.push_back(m);
    acc.trace.batch_observations.push_back(static_cast<int64_t>(active.size()));
    acc.trace.batch_accepted.push_back(acc.total_accepted() - accepted_before);
    active = after_batch(active, config, acc, m, warned);
    progress.update(std::min(acc.collected(), n));
  }
  progress.finish();
  return finish(acc, n, config);
}

}  // namespace cusbi::posteriors
