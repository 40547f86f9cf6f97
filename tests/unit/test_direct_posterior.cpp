// DirectPosterior sampling: shapes, errors, rejection against the prior's support (sbi's
// adaptive batch rule, its warnings, the time limit) and per-observation batched sampling.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "host/posteriors/rejection.hpp"
#include "unit/direct_posterior_fixtures.hpp"

namespace cusbi {
namespace {

using namespace direct_posterior_test;
using testing::contains;
using testing::error_of;

TEST(DirectPosteriorTest, ShapesFollowSbi) {
  DirectPosterior posterior(gaussian_flow(2, 3, 0.0f, 1.0f), BoxUniform(-2.0f, 2.0f, 2, kCpu));
  posterior.set_default_x(Tensor::from({0.1f, 0.2f, 0.3f}, {3}, kCpu));
  EXPECT_EQ(posterior.default_x().shape(), (Shape{1, 3}));
  EXPECT_EQ(posterior.sample({7}, Tensor(), quiet()).shape(), (Shape{7, 2}));
  EXPECT_EQ(posterior.sample({2, 3}, Tensor(), quiet()).shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(posterior.sample({0}, Tensor(), quiet()).shape(), (Shape{0, 2}));
  EXPECT_EQ(posterior.sample({4}, row({1, 2, 3}), quiet()).shape(), (Shape{4, 2}));
  const Tensor xs = Tensor::zeros({5, 3}, kCpu);
  EXPECT_EQ(posterior.sample_batched({4}, xs, quiet()).shape(), (Shape{4, 5, 2}));
  EXPECT_EQ(posterior.sample_batched({2, 2}, xs, quiet()).shape(), (Shape{2, 2, 5, 2}));
  EXPECT_EQ(posterior.last_acceptance_rates().size(), 5u);
  LogProbOptions lp;
  lp.num_rejection_samples = 200;
  EXPECT_EQ(posterior.log_prob(Tensor::zeros({6, 2}, kCpu), Tensor(), lp).shape(), (Shape{6}));
  EXPECT_EQ(posterior.log_prob(Tensor::zeros({2}, kCpu), Tensor(), lp).shape(), (Shape{1}));
  EXPECT_EQ(posterior.log_prob_batched(Tensor::zeros({6, 5, 2}, kCpu), xs, lp).shape(),
            (Shape{6, 5}));
  EXPECT_EQ(posterior.log_prob_batched(Tensor::zeros({5, 2}, kCpu), xs, lp).shape(), (Shape{1, 5}));
  MapOptions map;
  map.num_iter = 3;
  map.num_init_samples = 20;
  map.num_to_optimize = 4;
  EXPECT_EQ(posterior.map(map).shape(), (Shape{1, 2}));
}

TEST(DirectPosteriorTest, ErrorsSayWhatWasWrongAndWhatToDo) {
  auto flow = gaussian_flow(2, 2, 0.0f, 1.0f);
  EXPECT_TRUE(contains(error_of([&] { DirectPosterior(flow, BoxUniform(-1.0f, 1.0f, 3, kCpu)); }),
                       "the prior has 3 dimensions, the estimator models 2"));
  DirectPosterior posterior(flow, BoxUniform(-2.0f, 2.0f, 2, kCpu));
  EXPECT_TRUE(
      contains(error_of([&] { posterior.sample({3}, Tensor(), quiet()); }), "set_default_x"));
  EXPECT_TRUE(contains(error_of([&] { posterior.map(); }), "set_default_x"));
  EXPECT_TRUE(contains(error_of([&] {
                         posterior.sample({3}, row({1, 2, 3}), quiet());
                       }),
                       "observation has 3 elements, the estimator was trained on 2"));
  EXPECT_TRUE(contains(error_of([&] {
                         posterior.sample({3}, Tensor::zeros({2, 2}, kCpu));
                       }),
                       "sample_batched"));
  EXPECT_TRUE(
      contains(error_of([&] {
                 posterior.log_prob(Tensor::zeros({1, 2}, kCpu), Tensor::zeros({2, 2}, kCpu));
               }),
               "log_prob_batched"));
  EXPECT_TRUE(contains(error_of([&] { posterior.set_default_x(row({NAN, 0})); }), "NaN"));
  EXPECT_TRUE(contains(error_of([&] {
                         posterior.sample({3}, row({0, INFINITY}), quiet());
                       }),
                       "finite"));
  posterior.set_default_x(row({0, 0}));
  EXPECT_TRUE(contains(error_of([&] {
                         posterior.log_prob(Tensor::zeros({4, 3}, kCpu));
                       }),
                       "theta has shape (4, 3), the posterior is over 2 parameters"));
  EXPECT_TRUE(contains(
      error_of([&] {
        posterior.log_prob_batched(Tensor::zeros({4, 3, 2}, kCpu), Tensor::zeros({2, 2}, kCpu));
      }),
      "for 2 observations"));
  SampleOptions bad = quiet();
  bad.max_sampling_batch_size = 0;
  EXPECT_TRUE(contains(error_of([&] { posterior.sample({3}, Tensor(), bad); }),
                       "max_sampling_batch_size must be >= 1"));
  bad = quiet();
  bad.max_sampling_time = -1.0;
  EXPECT_TRUE(contains(error_of([&] { posterior.sample({3}, Tensor(), bad); }),
                       "max_sampling_time must be >= 0"));
  MapOptions map;
  map.init = Tensor::zeros({4, 3}, kCpu);
  EXPECT_TRUE(contains(error_of([&] { posterior.map(map); }), "init has shape (4, 3)"));
}

// Rejection keeps only samples inside the box (closed, as sbi's support check), and its
// acceptance rate and moments are those of the flow's samples restricted to the box.
TEST(DirectPosteriorTest, RejectionStaysInTheBoxWithTheFlowsAcceptanceRate) {
  auto flow = gaussian_flow(2, 2, 0.0f, 1.0f);
  const std::vector<float> low{-1.0f, -0.8f}, high{1.2f, 1.0f};
  DirectPosterior posterior(flow, BoxUniform(low, high, kCpu));
  const Tensor x = row({0.5f, -0.5f});
  Generator generator(3);
  const int64_t n = 20000;
  const std::vector<float> s = posterior.sample({n}, x, quiet(&generator)).to_vector();
  ASSERT_EQ(static_cast<int64_t>(s.size()), 2 * n);
  EXPECT_TRUE(all_inside(s, 2, low, high));

  const int64_t reference_n = 200000;
  const DirectStats ref = direct_stats(*flow, x, low, high, reference_n, 99);
  const double rate = posterior.last_acceptance_rates().at(0);
  // Binomial standard errors of both estimates (the sampler proposed about n / rate); 4 sigma.
  const double rate_tol =
      4.0 * std::sqrt(ref.fraction * (1 - ref.fraction) * (rate / n + 1.0 / reference_n));
  EXPECT_NEAR(rate, ref.fraction, rate_tol);
  EXPECT_GT(ref.fraction, 0.2);  // the box cuts a lot off: rejection is exercised
  EXPECT_LT(ref.fraction, 0.8);
  const testing::SampleMoments m = testing::moments(s, 2);
  for (int j = 0; j < 2; ++j) {
    // Means of n and ~reference_n·fraction samples of a distribution with variance var: 4 sigma.
    const double tol = 4.0 * std::sqrt(ref.var[j] * (1.0 / n + 1.0 / (ref.fraction * reference_n)));
    EXPECT_NEAR(m.mean[j], ref.mean[j], tol) << "dimension " << j;
  }
}

// sbi's batch sequence: first min(n, max), then min(max, max(int(1.5 remaining / rate), 100)),
// with the cumulative acceptance rate; the last batch overshoots and is cut to n.
TEST(DirectPosteriorTest, AdaptiveBatchSizesFollowSbisRule) {
  EXPECT_EQ(posteriors::next_batch_size(10000, 1000, 0.5), 3000);
  EXPECT_EQ(posteriors::next_batch_size(10000, 10, 0.9), 100);      // at least 100
  EXPECT_EQ(posteriors::next_batch_size(10000, 1000, 0.0), 10000);  // rate floor 1e-12
  EXPECT_EQ(posteriors::next_batch_size(500, 1000, 0.5), 500);
  EXPECT_EQ(posteriors::next_batch_size(50, 0, 0.5), 50);  // capped below 100 by max
  EXPECT_EQ(posteriors::next_batch_size(10000, 7, 0.3), 100);

  auto flow = gaussian_flow(1, 1, 0.0f, 1.0f);
  const BoxUniform prior(-0.5f, 0.7f, 1, kCpu);
  posteriors::RejectionConfig config;
  config.num_samples = 3000;
  config.max_batch = 1000;
  Generator generator(5);
  config.generator = &generator;
  const posteriors::RejectionRun run =
      posteriors::accept_reject_sample(*flow, prior, row({0.0f}), config);
  ASSERT_GE(run.batch_sizes.size(), 4u);  // rate ~0.4: 3000 samples need several batches
  EXPECT_EQ(run.batch_sizes[0], 1000);
  int64_t accepted = 0, proposed = 0;
  for (size_t i = 0; i + 1 < run.batch_sizes.size(); ++i) {
    accepted += run.batch_accepted[i];
    proposed += run.batch_sizes[i];
    const double rate = static_cast<double>(accepted) / proposed;
    EXPECT_EQ(run.batch_sizes[i + 1], posteriors::next_batch_size(1000, 3000 - accepted, rate))
        << "batch " << i + 1;
  }
  accepted += run.batch_accepted.back();
  proposed += run.batch_sizes.back();
  EXPECT_GE(accepted, 3000);
  EXPECT_EQ(run.accepted.at(0), accepted);  // overshoot counts towards the rate, as sbi
  EXPECT_EQ(run.proposed.at(0), proposed);
  EXPECT_FLOAT_EQ(run.rates.at(0), static_cast<float>(static_cast<double>(accepted) / proposed));
  EXPECT_EQ(run.samples.shape(), (Shape{3000, 1, 1}));
  // A few samples: the first batch is n itself.
  config.num_samples = 5;
  EXPECT_EQ(posteriors::accept_reject_sample(*flow, prior, row({0.0f}), config).batch_sizes.at(0),
            5);
}

// The box [lo, hi] that holds about `fraction` of the 1-D flow's mass in its upper tail.
std::vector<float> upper_tail_box(NeuralSplineFlow& flow, double fraction) {
  Generator generator(21);
  std::vector<float> s = flow.sample({200000}, row({0.0f}), &generator).to_vector();
  std::sort(s.begin(), s.end());
  const size_t hi = s.size() - 1 - s.size() / 2000;  // leave the last 0.05% out
  const size_t lo = hi - static_cast<size_t>(fraction * s.size());
  return {s[lo], s[hi]};
}

TEST(DirectPosteriorTest, LowAcceptanceWarnsOnceWithSbisAdvice) {
  auto flow = gaussian_flow(1, 1, 0.0f, 1.0f);
  const std::vector<float> box = upper_tail_box(*flow, 0.004);  // ~0.4% accepted
  DirectPosterior posterior(flow, BoxUniform({box[0]}, {box[1]}, kCpu));
  {
    WarningCapture capture;
    Generator generator(1);
    const std::vector<float> s =
        posterior.sample({200}, row({0.0f}), quiet(&generator)).to_vector();
    EXPECT_TRUE(all_inside(s, 1, {box[0]}, {box[1]}));
    EXPECT_LT(posterior.last_acceptance_rates()[0], 0.01f);
    ASSERT_EQ(capture.messages.size(), 1u);  // once, although every batch has a low rate
    EXPECT_TRUE(contains(capture.messages[0], "of the proposal samples are accepted"));
    EXPECT_TRUE(contains(capture.messages[0], "max_sampling_time"));
    EXPECT_TRUE(contains(capture.messages[0], "reject_outside_prior = false"));
    EXPECT_TRUE(contains(capture.messages[0], "MCMC"));
  }
  {
    WarningCapture capture;  // the leakage correction words it differently
    posterior.leakage_correction(row({0.0f}), 100);
    ASSERT_EQ(capture.messages.size(), 1u);
    EXPECT_TRUE(contains(capture.messages[0], "normalizing constant"));
    EXPECT_TRUE(contains(capture.messages[0], "norm_posterior = false"));
  }
  {
    WarningCapture capture;  // a box holding most of the mass: no warning
    DirectPosterior wide(flow, BoxUniform(-3.0f, 3.0f, 1, kCpu));
    wide.sample({5000}, row({0.0f}), quiet());
    EXPECT_TRUE(capture.messages.empty());
  }
}

TEST(DirectPosteriorTest, TimeLimitThrowsOrReturnsThePartialSamples) {
  auto flow = gaussian_flow(1, 1, 0.0f, 1.0f);
  const std::vector<float> box = upper_tail_box(*flow, 0.004);
  DirectPosterior posterior(flow, BoxUniform({box[0]}, {box[1]}, kCpu));
  posterior.set_default_x(row({0.0f}));
  SampleOptions options = quiet();
  options.max_sampling_time = 0.2;  // seconds: a few batches of 10,000 at most
  const int64_t n = 1000000;        // ~2.5e8 proposals: far beyond the limit
  WarningCapture capture;           // (the low-acceptance warning comes first)
  EXPECT_TRUE(contains(error_of([&] { posterior.sample({n}, Tensor(), options); }),
                       "exceeded max_sampling_time"));
  options.return_partial_on_timeout = true;
  capture.messages.clear();
  const Tensor partial = posterior.sample({n}, Tensor(), options);
  ASSERT_EQ(partial.dim(), 2);
  EXPECT_GT(partial.size(0), 0);  // the first batch of 10,000 accepts ~40
  EXPECT_LT(partial.size(0), n);
  EXPECT_TRUE(all_inside(partial.to_vector(), 1, {box[0]}, {box[1]}));
  bool partial_warned = false;
  for (const std::string& m : capture.messages)
    partial_warned = partial_warned || contains(m, "Returning partial results");
  EXPECT_TRUE(partial_warned);
}

TEST(DirectPosteriorTest, WithoutRejectionTheFlowsSamplesComeBackWithAWarning) {
  auto flow = gaussian_flow(2, 2, 0.0f, 1.0f);
  DirectPosterior posterior(flow, BoxUniform(-1.0f, 1.0f, 2, kCpu));
  const Tensor x = row({0.0f, 0.0f});
  SampleOptions options = quiet();
  options.reject_outside_prior = false;
  Generator a(8), b(8);
  options.generator = &a;
  WarningCapture capture;
  const Tensor s = posterior.sample({1000}, x, options);
  // Bit for bit the flow's own samples (the same noise), outside points included.
  EXPECT_EQ(s.to_vector(), flow->sample({1000}, x, &b).reshape({1000, 2}).to_vector());
  ASSERT_EQ(capture.messages.size(), 1u);
  EXPECT_TRUE(contains(capture.messages[0],
                       "of samples drawn with reject_outside_prior = false "
                       "lie outside the prior support"));
}

TEST(DirectPosteriorTest, BatchedSamplingTracksEachObservation) {
  auto flow = trained_flow_1d();
  const std::vector<float> low{-1.0f}, high{1.0f};
  DirectPosterior posterior(flow, BoxUniform(low, high, kCpu));
  const std::vector<float> xs_host{-1.8f, 0.0f, 1.8f};
  const Tensor xs = Tensor::from(xs_host, {3, 1}, kCpu);
  Generator generator(4);
  const int64_t n = 4000;
  const Tensor s = posterior.sample_batched({n}, xs, quiet(&generator));
  ASSERT_EQ(s.shape(), (Shape{n, 3, 1}));
  const std::vector<float> v = s.to_vector();
  EXPECT_TRUE(all_inside(v, 1, low, high));
  for (int64_t b = 0; b < 3; ++b) {
    std::vector<float> mine;
    for (int64_t j = 0; j < n; ++j) mine.push_back(v[j * 3 + b]);
    const DirectStats ref = direct_stats(*flow, xs.slice_rows(b, b + 1), low, high, 100000, 50 + b);
    const double mean = testing::moments(mine, 1).mean[0];
    // 4 sigma of the two sample means; the observations' means differ by ~0.9, far beyond it,
    // so samples given to the wrong observation fail.
    const double tol = 4.0 * std::sqrt(ref.var[0] * (1.0 / n + 1.0 / (ref.fraction * 100000)));
    EXPECT_NEAR(mean, ref.mean[0], tol) << "observation " << b;
    const double rate = posterior.last_acceptance_rates().at(b);
    EXPECT_NEAR(rate, ref.fraction,
                4.0 * std::sqrt(ref.fraction * (1 - ref.fraction) * (rate / n + 1e-5)))
        << "observation " << b;
  }
  // Acceptance ~0.6, ~0.98 and ~0.77: with batches capped at 500 the middle observation is
  // done after about 5 batches, the others need 6-7, proposed for without the middle one.
  posteriors::RejectionConfig config;
  config.num_samples = 2000;
  config.max_batch = 500;
  config.generator = &generator;
  const posteriors::RejectionRun run =
      posteriors::accept_reject_sample(*flow, BoxUniform(low, high, kCpu), xs, config);
  EXPECT_EQ(run.batch_observations.front(), 3);
  EXPECT_LT(run.batch_observations.back(), 3);
  EXPECT_LT(run.proposed[1], run.proposed[0]);
  EXPECT_LT(run.proposed[1], run.proposed[2]);
}

TEST(DirectPosteriorTest, BatchedSamplingWarnsAndCapsAsSbi) {
  auto flow = gaussian_flow(1, 1, 0.0f, 1.0f);
  DirectPosterior posterior(flow, BoxUniform(-3.0f, 3.0f, 1, kCpu));
  {
    WarningCapture capture;
    posterior.sample_batched({10}, Tensor::zeros({20, 1}, kCpu), quiet());
    ASSERT_EQ(capture.messages.size(), 1u);
    EXPECT_TRUE(
        contains(capture.messages[0], "Capping max_sampling_batch_size from 10000 to 5000"));
  }
  {
    WarningCapture capture;
    SampleOptions options = quiet();
    options.max_sampling_time = 1e-12;  // stop before drawing: only the warning matters
    error_of([&] {
      posterior.sample_batched({(1 << 20) + 1}, Tensor::zeros({2, 1}, kCpu), options);
    });
    ASSERT_GE(capture.messages.size(), 1u);
    EXPECT_TRUE(contains(capture.messages[0], "2 * 1048577 = 2097154 samples"));
  }
}

}  // namespace
}  // namespace cusbi

namespace cusbi::direct_posterior_test {
namespace {

// A flow with NaN weights (a diverged training) draws only NaN: rejection must fail with a
// message instead of proposing forever.
TEST(DirectPosteriorTest, NanEstimatorFailsInsteadOfLoopingForever) {
  auto flow = gaussian_flow(2, 1, 0.0f, 1.0f);
  flow->parameters().fill_(std::nanf(""));
  DirectPosterior posterior(flow, BoxUniform(-3.0f, 3.0f, 2, kCpu));
  SampleOptions quiet;
  quiet.show_progress = false;
  const std::string error = testing::error_of([&] { posterior.sample({100}, row({0.5f}), quiet); });
  EXPECT_TRUE(testing::contains(error, "NaN or infinite samples"));
  EXPECT_TRUE(testing::contains(
      testing::error_of([&] { posterior.leakage_correction(row({0.5f}), 100); }), "retrain"));
}

}  // namespace
}  // namespace cusbi::direct_posterior_test
