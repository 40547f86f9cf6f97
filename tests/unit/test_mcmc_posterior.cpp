// MCMCPosterior's bookkeeping against sbi's rules (spec mcmc_nre.md §1): output shapes, the sweep
// budget 50 + W·T + ceil(N·T/C), chain-major flattening truncated to N, thinning, iteration
// counts, determinism, the init strategies, option errors and invalid chains. Cheap analytic
// potentials on the CPU with few chains; the sampler's distributions are tested in
// tests/stats/test_mcmc_stats.cpp, sample_batched / map / diagnostics in
// test_mcmc_posterior_batched.cpp.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <memory>
#include <vector>

#include "cusbi/cusbi.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using testing::CaptureWarnings;
using testing::contains;
using testing::error_of;

const Device kCpu = Device::cpu();

// log N(theta; 0, I) up to a constant, for (M, D) rows.
std::shared_ptr<Potential> gaussian(int64_t dim) {
  return potential_from_function([](const Tensor& t) { return sum(t * t, 1) * -0.5f; }, dim, kCpu);
}

// A potential from a per-row function on the host, with a count of its calls.
std::shared_ptr<Potential> host_potential(int64_t dim, std::function<float(const float*)> f,
                                          int64_t* calls = nullptr) {
  return potential_from_function(
      [dim, f, calls](const Tensor& theta) {
        if (calls) ++*calls;
        const std::vector<float> v = theta.to_vector();
        std::vector<float> out(static_cast<size_t>(theta.size(0)));
        for (size_t i = 0; i < out.size(); ++i) out[i] = f(v.data() + i * dim);
        return Tensor::from(out, {theta.size(0)}, kCpu);
      },
      dim, kCpu);
}

MCMCOptions quiet(int64_t chains, int64_t warmup, Generator& generator, int64_t thin = 1) {
  MCMCOptions o;
  o.num_chains = chains;
  o.warmup_steps = warmup;
  o.thin = thin;
  o.init_strategy = "proposal";
  o.show_progress = false;
  o.generator = &generator;
  return o;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// sbi's counts: kept = ceil((W·T + ceil(N·T/C)) / T) - W per chain, 50 + W·T + ceil(N·T/C) sweeps.
void expect_budget(const MCMCPosterior& p, int64_t n, int64_t c, int64_t w, int64_t t, int64_t d) {
  const int64_t recorded = w * t + ceil_div(n * t, c);
  EXPECT_EQ(p.chains().shape(), (Shape{c, ceil_div(recorded, t) - w, d}));
  EXPECT_EQ(p.last_run().sweeps_per_chain, 50 + recorded);
  EXPECT_EQ(p.last_run().num_chains, c);
}

TEST(McmcPosterior, ShapesBudgetAndChainMajorTruncation) {
  Generator g(1);
  BoxUniform proposal(-2.0f, 2.0f, 2, kCpu);
  MCMCPosterior posterior(gaussian(2), proposal, ThetaTransform(), quiet(4, 3, g));
  // N = 10 from C = 4 chains: 3 + ceil(10 / 4) = 6 recorded sweeps, 3 kept after warm-up, and
  // the 12 per-chain samples are cut to 10 (chain 3 contributes one).
  const Tensor s = posterior.sample({10});
  ASSERT_EQ(s.shape(), (Shape{10, 2}));
  expect_budget(posterior, 10, 4, 3, 1, 2);
  const Tensor flat = posterior.chains().reshape({-1, 2}).slice_rows(0, 10);
  EXPECT_EQ(s.to_vector(), flat.to_vector());  // exactly the same rows, not just close

  const Tensor s2 = posterior.sample({3, 5});
  ASSERT_EQ(s2.shape(), (Shape{3, 5, 2}));
  expect_budget(posterior, 15, 4, 3, 1, 2);
  EXPECT_EQ(s2.to_vector(), posterior.chains().reshape({-1, 2}).slice_rows(0, 15).to_vector());
}

TEST(McmcPosterior, ThinningKeepsEveryTthSweepAndMinusOneMeansOne) {
  Generator g(2);
  BoxUniform proposal(-2.0f, 2.0f, 1, kCpu);
  MCMCPosterior posterior(gaussian(1), proposal, ThetaTransform(), quiet(4, 2, g, 3));
  // T = 3, W = 2, N = 10, C = 4: 6 + ceil(30 / 4) = 14 recorded, ceil(14 / 3) - 2 = 3 kept.
  EXPECT_EQ(posterior.sample({10}).shape(), (Shape{10, 1}));
  expect_budget(posterior, 10, 4, 2, 3, 1);
  EXPECT_EQ(posterior.last_run().sweeps_per_chain, 64);

  g.manual_seed(9);
  const std::vector<float> one = posterior.sample({10}, Tensor(), quiet(4, 2, g, 1)).to_vector();
  g.manual_seed(9);
  const std::vector<float> minus_one =
      posterior.sample({10}, Tensor(), quiet(4, 2, g, -1)).to_vector();
  EXPECT_EQ(posterior.last_run().sweeps_per_chain, 50 + 2 + 3);
  EXPECT_EQ(one, minus_one);
}

TEST(McmcPosterior, IterationCountsFollowTheLockstepLoop) {
  Generator g(3);
  const int64_t d = 3, c = 5;
  BoxUniform proposal(-2.0f, 2.0f, d, kCpu);
  MCMCPosterior posterior(gaussian(d), proposal, ThetaTransform(), quiet(c, 4, g));
  posterior.sample({20});
  const MCMCRunInfo& info = posterior.last_run();
  // Each coordinate update evaluates both bracket ends and at least one shrinkage point; the
  // current point's value is reused from its acceptance (kernels/slice.h, reuse_value), except
  // at the first update, which evaluates the start.
  EXPECT_GE(info.iterations, 3 * d * info.sweeps_per_chain + 1);
  EXPECT_EQ(info.potential_evaluations, info.iterations * c);
  EXPECT_EQ(info.host_round_trips, 0);  // the CPU loop reads its counters directly
  EXPECT_EQ(info.init_evaluations, 0);  // "proposal" evaluates nothing
  EXPECT_TRUE(info.failed_chains.empty());
}

TEST(McmcPosterior, SeedDeterminesTheSamplesAndThreadsDoNot) {
  BoxUniform proposal(-2.0f, 2.0f, 1, kCpu);
  auto draw = [&](uint64_t seed, int64_t chains) {
    Generator g(seed);
    MCMCPosterior posterior(gaussian(1), proposal, ThetaTransform(), quiet(chains, 0, g));
    return posterior.sample({chains}).to_vector();
  };
  EXPECT_EQ(draw(4, 6), draw(4, 6));
  EXPECT_NE(draw(4, 6), draw(5, 6));

  // More than the CPU loop's 2048 chains per part, so several threads share the chains.
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const std::vector<float> single = draw(6, 5000);
  omp_set_num_threads(4);
  const std::vector<float> several = draw(6, 5000);
  omp_set_num_threads(threads);
  EXPECT_EQ(single, several);
}

TEST(McmcPosterior, InitStrategiesCountTheirEvaluations) {
  Generator g(7);
  BoxUniform proposal(-2.0f, 2.0f, 2, kCpu);
  MCMCPosterior posterior(gaussian(2), proposal, ThetaTransform(), quiet(3, 0, g));
  MCMCOptions o = quiet(3, 0, g);
  o.init_strategy_parameters.num_candidate_samples = 50;
  o.init_strategy_parameters.num_batches = 2;
  o.init_strategy = "resample";  // num_batches x num_candidate_samples per chain (sbi's pools)
  o.init_strategy_parameters.shared_candidates = false;
  posterior.sample({6}, Tensor(), o);
  EXPECT_EQ(posterior.last_run().init_evaluations, 3 * 2 * 50);
  o.init_strategy_parameters.shared_candidates = true;  // one pool for all chains (the default)
  posterior.sample({6}, Tensor(), o);
  EXPECT_EQ(posterior.last_run().init_evaluations, 2 * 50);
  o.init_strategy_parameters.shared_candidates = false;
  o.init_strategy = "sir";  // num_candidate_samples per chain; sbi's SIR ignores num_batches
  posterior.sample({6}, Tensor(), o);
  EXPECT_EQ(posterior.last_run().init_evaluations, 3 * 50);
  o.init_strategy = "latest_sample";
  posterior.sample({6}, Tensor(), o);
  EXPECT_EQ(posterior.last_run().init_evaluations, 0);

  o.init_strategy = "metropolis";
  const std::string unknown = error_of([&] { posterior.sample({6}, Tensor(), o); });
  EXPECT_TRUE(contains(unknown, "metropolis"));
  for (const char* name : {"resample", "proposal", "sir", "latest_sample"})
    EXPECT_TRUE(contains(unknown, name));

  o.init_strategy = "resample";
  o.init_strategy_parameters.num_candidate_samples = 0;
  EXPECT_TRUE(
      contains(error_of([&] { posterior.sample({6}, Tensor(), o); }), "num_candidate_samples"));
}

TEST(McmcPosterior, ResampleRefusesAPotentialWithNoFiniteCandidate) {
  Generator g(8);
  BoxUniform proposal(-2.0f, 2.0f, 1, kCpu);
  auto impossible = host_potential(1, [](const float*) { return -INFINITY; });
  MCMCOptions o = quiet(2, 0, g);
  o.init_strategy = "resample";
  o.init_strategy_parameters.num_candidate_samples = 20;
  MCMCPosterior posterior(impossible, proposal, ThetaTransform(), o);
  const std::string e = error_of([&] { posterior.sample({4}); });
  EXPECT_TRUE(contains(e, "all 20 candidates of chain 0"));
}

// Two modes at -3 and 3, sd 0.1, separated by a gap no slice bracket crosses: a chain keeps
// its mode, so where a continued run's chains sit shows where they started.
float two_narrow_modes(const float* t) {
  const float a = (t[0] + 3.0f) / 0.1f, b = (t[0] - 3.0f) / 0.1f;
  return -0.5f * std::min(a * a, b * b);
}

TEST(McmcPosterior, LatestSampleContinuesEachChainWhereItStopped) {
  Generator g(10);
  BoxUniform proposal(-5.0f, 5.0f, 1, kCpu);
  MCMCPosterior posterior(host_potential(1, two_narrow_modes), proposal, ThetaTransform(),
                          quiet(40, 0, g));
  MCMCOptions o = quiet(40, 0, g);
  o.init_strategy = "latest_sample";
  EXPECT_TRUE(contains(error_of([&] { posterior.sample({40}, Tensor(), o); }), "no previous run"));

  posterior.sample({80});  // proposal init: chains spread over both modes
  const std::vector<float> first = posterior.chains().to_vector();  // (40, 2, 1)
  posterior.sample({120}, Tensor(), o);
  const std::vector<float> second = posterior.chains().to_vector();  // (40, 3, 1)
  int right = 0;
  for (int c = 0; c < 40; ++c) {
    const bool was_right = first[c * 2 + 1] > 0;  // the chain's last kept state
    ASSERT_GT(std::fabs(first[c * 2 + 1]), 2.5f) << "chain " << c << " ended outside the modes";
    right += was_right;
    for (int k = 0; k < 3; ++k) EXPECT_EQ(second[c * 3 + k] > 0, was_right) << "chain " << c;
  }
  // Both modes are populated (40 uniform starts), so a permutation of chains would show.
  EXPECT_GT(right, 5);
  EXPECT_LT(right, 35);

  o.num_chains = 41;
  EXPECT_TRUE(
      contains(error_of([&] { posterior.sample({41}, Tensor(), o); }), "stored 40 chains but 41"));
}

TEST(McmcPosterior, OptionErrorsNameTheProblem) {
  Generator g(11);
  BoxUniform proposal(-2.0f, 2.0f, 2, kCpu);
  MCMCPosterior posterior(gaussian(2), proposal, ThetaTransform(), quiet(2, 0, g));
  auto with = [&](auto change) {
    MCMCOptions o = quiet(2, 0, g);
    change(o);
    return error_of([&] { posterior.sample({4}, Tensor(), o); });
  };
  EXPECT_TRUE(contains(with([](MCMCOptions& o) { o.num_chains = 0; }), "num_chains"));
  EXPECT_TRUE(contains(with([](MCMCOptions& o) { o.thin = 0; }), "thin"));
  EXPECT_TRUE(contains(with([](MCMCOptions& o) { o.thin = -2; }), "thin"));
  EXPECT_TRUE(contains(with([](MCMCOptions& o) { o.warmup_steps = -1; }), "warmup_steps"));
  EXPECT_TRUE(contains(with([](MCMCOptions& o) { o.method = "hmc_pyro"; }), "hmc_pyro"));
  EXPECT_TRUE(contains(error_of([&] { posterior.sample({0}); }), "no samples"));
  EXPECT_TRUE(contains(error_of([&] { posterior.set_options(quiet(0, 0, g)); }), "num_chains"));
  EXPECT_TRUE(contains(error_of([&] { posterior.chains(); }), "no samples yet"));

  EXPECT_TRUE(
      contains(error_of([&] { MCMCPosterior(gaussian(2), BoxUniform(-1.0f, 1.0f, 3, kCpu)); }),
               "3 dimensions"));
  MCMCOptions bad = quiet(2, 0, g);
  bad.warmup_steps = -5;
  EXPECT_TRUE(
      contains(error_of([&] { MCMCPosterior(gaussian(2), proposal, {}, bad); }), "warmup_steps"));

  // An NLE potential checks x's width: small_flow models x of width 3 given theta of width 2.
  BoxUniform prior(-2.0f, 2.0f, 2, kCpu);
  auto [likelihood, transform] =
      likelihood_estimator_based_potential(testing::small_flow(), prior, Tensor());
  MCMCPosterior nle(likelihood, prior, transform, quiet(2, 0, g));
  const Tensor narrow = Tensor::zeros({2}, kCpu);
  EXPECT_FALSE(error_of([&] { nle.sample({4}, narrow); }).empty());
  EXPECT_FALSE(error_of([&] { nle.set_default_x(narrow); }).empty());
  EXPECT_FALSE(error_of([&] { nle.sample({4}); }).empty());  // no x at all
}

// NaN where theta > 0.5 and a proposal on [0, 1]: about half the chains start at a NaN.
float nan_right_half(const float* t) { return t[0] > 0.5f ? NAN : -0.5f * t[0] * t[0]; }

TEST(McmcPosterior, InvalidChainsRaiseOrAreDropped) {
  BoxUniform proposal(0.0f, 1.0f, 1, kCpu);
  const int64_t c = 8;
  // "proposal" init takes the proposal's first C draws from the generator, so the failing
  // chains are known in advance.
  Generator replay(12);
  const std::vector<float> inits = proposal.sample({c}, &replay).to_vector();
  std::vector<int64_t> expected_failed;
  for (int64_t i = 0; i < c; ++i)
    if (inits[i] > 0.5f) expected_failed.push_back(i);
  ASSERT_GT(expected_failed.size(), 0u);
  ASSERT_LT(expected_failed.size(), size_t(c));

  Generator g(12);
  MCMCPosterior posterior(host_potential(1, nan_right_half), proposal, ThetaTransform(),
                          quiet(c, 0, g));
  const std::string raised = error_of([&] { posterior.sample({8 * c}); });
  EXPECT_TRUE(contains(raised, "chain " + std::to_string(expected_failed[0]) + " at sweep 0"));
  EXPECT_TRUE(contains(raised, "InvalidChainPolicy::Drop"));

  g.manual_seed(12);
  MCMCOptions drop = quiet(c, 0, g);
  drop.invalid_chains = InvalidChainPolicy::Drop;
  CaptureWarnings warnings;
  const Tensor s = posterior.sample({8 * c}, Tensor(), drop);
  EXPECT_EQ(posterior.last_run().failed_chains, expected_failed);
  const int64_t alive = c - static_cast<int64_t>(expected_failed.size());
  EXPECT_EQ(s.shape(), (Shape{8 * alive, 1}));  // 8 kept per surviving chain
  EXPECT_EQ(posterior.chains().size(0), alive);
  for (const float v : s.to_vector()) EXPECT_LE(v, 0.5f);  // survivors never enter the NaN half
  ASSERT_EQ(warnings.messages.size(), 2u);
  EXPECT_TRUE(contains(warnings.messages[0], "left out"));
  EXPECT_TRUE(contains(warnings.messages[1], "instead of"));

  g.manual_seed(12);  // a 2-D sample_shape cannot be filled by fewer rows
  EXPECT_TRUE(contains(error_of([&] { posterior.sample({8, c}, Tensor(), drop); }), "do not fill"));
}

TEST(McmcPosterior, AllChainsInvalidThrowsAtOnceEvenWhenDropping) {
  Generator g(13);
  int64_t calls = 0;
  auto everywhere_nan = host_potential(
      1, [](const float*) { return NAN; }, &calls);
  MCMCOptions o = quiet(6, 200, g);
  o.invalid_chains = InvalidChainPolicy::Drop;
  MCMCPosterior posterior(everywhere_nan, BoxUniform(0.0f, 1.0f, 1, kCpu), ThetaTransform(), o);
  EXPECT_TRUE(contains(error_of([&] { posterior.sample({600}); }), "No chain is left"));
  // Every chain fails at its first evaluation; the loop stops there instead of running the
  // 50 + 200 + 100 sweeps.
  EXPECT_EQ(calls, 1);
}

TEST(McmcPosterior, LogProbIsTheUntransformedPotentialAndWarnsOnce) {
  Generator g(14);
  BoxUniform prior(-2.0f, 3.0f, 2, kCpu);
  auto potential = gaussian(2);
  MCMCPosterior posterior(potential, prior, ThetaTransform::for_prior(prior), quiet(2, 0, g));
  const Tensor theta = Tensor::from({0.5f, -1.0f, 2.5f, 1.5f}, {2, 2}, kCpu);
  CaptureWarnings warnings;
  // No Jacobian of the logit transform: exactly -|theta|^2 / 2.
  EXPECT_EQ(posterior.log_prob(theta).to_vector(), (std::vector<float>{-0.625f, -4.25f}));
  EXPECT_EQ(posterior.log_prob(Tensor::from({1.0f, 1.0f}, {2}, kCpu)).to_vector(),
            (std::vector<float>{-1.0f}));
  ASSERT_EQ(warnings.messages.size(), 1u);
  EXPECT_TRUE(contains(warnings.messages[0], "unnormalised"));
}

}  // namespace
}  // namespace cusbi
