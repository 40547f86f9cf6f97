// The init strategies. Candidates are drawn and evaluated for many chains at once (up to
// kRowsPerCall rows per potential call), and only the potential values come back to the host,
// where each chain's categorical draw is made in double: sbi's multinomial(probs, 1) and SIR's
// first-index-with-cumsum >= u are both one draw from the normalised weights, so one
// inverse-CDF rule serves both. Non-finite weights count as zero, as sbi's resample sets them.
#include "host/mcmc/init_strategies.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "cusbi/error.hpp"
#include "cusbi/progress.hpp"

namespace cusbi::mcmc {

namespace {

// Potential rows per call: large enough to amortise a call's overhead, small enough that the
// estimator's workspaces stay modest (the flow keeps a few hidden-width buffers per row).
constexpr int64_t kRowsPerCall = int64_t(1) << 16;

// Index drawn from weights exp(log_w[i] - max) with non-finite terms as 0, by the inverse CDF
// at u in [0, 1); -1 when every weight is 0.
int64_t categorical(const float* log_w, int64_t n, double u) {
  double top = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i)
    if (std::isfinite(log_w[i])) top = std::max(top, static_cast<double>(log_w[i]));
  if (!std::isfinite(top)) return -1;
  std::vector<double> cumulative(static_cast<size_t>(n));
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    if (std::isfinite(log_w[i])) total += std::exp(static_cast<double>(log_w[i]) - top);
    cumulative[i] = total;
  }
  const double target = u * total;
  const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), target);
  return std::min<int64_t>(it - cumulative.begin(), n - 1);
}

// log weights of `candidates` (n, D): potential, minus the proposal's log density for SIR.
std::vector<float> log_weights(const Tensor& candidates, bool sir, InitContext& ctx,
                               int64_t* evaluations) {
  const int64_t n = candidates.size(0);
  Tensor values = Tensor::empty({n}, candidates.device());
  for (int64_t begin = 0; begin < n; begin += kRowsPerCall) {
    const int64_t end = std::min(n, begin + kRowsPerCall);
    Tensor out = values.slice_rows(begin, end);
    ctx.potential.evaluate(candidates.slice_rows(begin, end), out);
  }
  *evaluations += n;
  if (sir) values = values - ctx.proposal.log_prob(candidates);
  return values.to_vector();
}

[[noreturn]] void no_weight(const std::string& strategy, int64_t chain, int64_t n) {
  CUSBI_FAIL("MCMC init '" << strategy << "': the potential is -inf or NaN at all " << n
                           << " candidates of chain " << chain
                           << "; the observation may be impossible under the prior, or the "
                              "estimator broken. Try init_strategy = \"proposal\" or more "
                              "candidates (init_strategy_parameters.num_candidate_samples)");
}

Tensor weighted_starts(const std::string& strategy, const InitStrategyParameters& p, int64_t chains,
                       InitContext& ctx, int64_t* evaluations) {
  const bool sir = strategy == "sir";
  // sbi's resample draws num_batches x num_candidate_samples; sir draws num_candidate_samples.
  const int64_t n = sir ? p.num_candidate_samples : p.num_batches * p.num_candidate_samples;
  const int64_t d = ctx.proposal.event_size();
  const Device device = ctx.potential.device();
  std::vector<float> chosen(static_cast<size_t>(chains * d));
  ProgressLine progress(
      "Generating " + std::to_string(chains) + " MCMC inits via " + strategy + " strategy", chains,
      ctx.show_progress);
  // Chains per group: their candidates together fill about one call (a pool each), or all
  // chains share one pool.
  const int64_t group = p.shared_candidates ? chains : std::max<int64_t>(1, kRowsPerCall / n);
  for (int64_t first = 0; first < chains; first += group) {
    const int64_t g = std::min(group, chains - first);
    const int64_t pools = p.shared_candidates ? 1 : g;
    const Tensor candidates = ctx.proposal.sample({pools * n}, &ctx.generator).reshape({-1, d});
    const std::vector<float> w = log_weights(candidates, sir, ctx, evaluations);
    const std::vector<float> u = rand({g}, Device::cpu(), &ctx.generator).to_vector();
    std::vector<int64_t> rows(static_cast<size_t>(g));
    for (int64_t j = 0; j < g; ++j) {
      const int64_t pool = p.shared_candidates ? 0 : j;
      const int64_t pick = categorical(w.data() + pool * n, n, u[j]);
      if (pick < 0) no_weight(strategy, first + j, n);
      rows[j] = pool * n + pick;
    }
    const std::vector<float> host = take_rows(candidates, rows).to_vector();
    std::copy(host.begin(), host.end(), chosen.begin() + first * d);
    progress.update(first + g);
  }
  progress.finish();
  return ctx.transform.forward(Tensor::from(chosen, {chains, d}, device));
}

}  // namespace

Tensor initial_points(const std::string& strategy, const InitStrategyParameters& parameters,
                      int64_t chains, InitContext& ctx, int64_t* evaluations) {
  if (strategy == "proposal")
    return ctx.transform.forward(ctx.proposal.sample({chains}, &ctx.generator))
        .to(ctx.potential.device());
  if (strategy == "resample" || strategy == "sir") {
    CUSBI_CHECK(
        parameters.num_candidate_samples >= 1 && parameters.num_batches >= 1,
        "MCMC init '" << strategy << "': num_candidate_samples and num_batches must be >= 1, got "
                      << parameters.num_candidate_samples << " and " << parameters.num_batches);
    return weighted_starts(strategy, parameters, chains, ctx, evaluations);
  }
  if (strategy == "latest_sample") {
    CUSBI_CHECK(ctx.latest != nullptr && ctx.latest->defined(),
                "MCMC init 'latest_sample': no previous run to continue; sample once with "
                "another init strategy first");
    CUSBI_CHECK(ctx.latest->size(0) >= chains, "MCMC init 'latest_sample': the last run stored "
                                                   << ctx.latest->size(0) << " chains but "
                                                   << chains << " are requested");
    return ctx.latest->slice_rows(0, chains).clone();
  }
  CUSBI_FAIL("MCMC: unknown init_strategy '" << strategy
                                             << "'; use \"resample\" (sbi's default), "
                                                "\"proposal\", \"sir\" or \"latest_sample\"");
}

}  // namespace cusbi::mcmc
