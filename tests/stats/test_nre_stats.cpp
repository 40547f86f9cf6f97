// NRE posteriors against the analytic one. The tutorial's problem (BoxUniform(-3, 3)^2,
// x = theta + 0.1 noise) has posterior N(x_o, 0.1^2 I) (truncation negligible at x_o). NRE_B and
// NRE_C trained by the NRE trainer, then MCMC on the ratio potential.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "cusbi/cusbi.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

const Device kCpu = Device::cpu();

// Mean and interquartile spread (IQR / 1.349, the sd of a normal) of column d of samples (N, 2).
std::pair<double, double> centre_and_spread(const std::vector<float>& v, int64_t d) {
  std::vector<float> col;
  for (size_t i = d; i < v.size(); i += 2) col.push_back(v[i]);
  double mean = 0;
  for (const float c : col) mean += c / double(col.size());
  std::sort(col.begin(), col.end());
  return {mean, (col[col.size() * 3 / 4] - col[col.size() / 4]) / 1.349};
}

// The tutorial's NRE section as written: build_resnet_classifier(x, theta), 300 full-batch
// steps of classifier_logits (10 atoms) + the NRE_B loss, ratio potential, 100 chains.
TEST(NreStats, TutorialCustomLoopRecoversItsPosterior) {
  Generator g(41);
  BoxUniform prior(-3.0f, 3.0f, 2, kCpu);
  const Tensor theta = prior.sample({1000}, &g);
  const Tensor x = theta + 0.1f * randn_like(theta, &g);
  RatioClassifier net = build_resnet_classifier(x, theta, {}, &g);
  Adam opt(net.parameters(), net.gradients(), 5e-4);
  for (int step = 0; step < 300; ++step) {
    opt.zero_grad();
    const Tensor logits = classifier_logits(net, theta, x, 10, &g);
    auto [loss, grad] = nre_b_loss(logits.reshape({1000, 10}));
    net.backward(grad.reshape({10000}));
    opt.step();
  }
  const Tensor x_o = Tensor::from({1.0f, 1.0f}, {1, 2}, kCpu);
  auto [potential, tf] = ratio_estimator_based_potential(net, prior, x_o);
  MCMCPosterior posterior(potential, prior, tf,
                          {.num_chains = 100, .show_progress = false, .generator = &g});
  const std::vector<float> v = posterior.sample({1000}, x_o).to_vector();
  for (int64_t d = 0; d < 2; ++d) {
    const auto [mean, spread] = centre_and_spread(v, d);
    // Analytic posterior N(1, 0.1^2) per dimension. 300 steps leave the classifier short of
    // converged: over 5 seeds the mean was off by at most 0.084 and the spread 0.10-0.15, so
    // 0.15 bounds its error while a classifier that ignores x (mean ~0, sd 1.7) or theta fails.
    EXPECT_NEAR(mean, 1.0, 0.15) << "dim " << d;
    EXPECT_GT(spread, 0.05) << "dim " << d;
    EXPECT_LT(spread, 0.25) << "dim " << d;
  }
}

void check_posterior(NreVariant variant, uint64_t seed) {
  Generator g(seed);
  BoxUniform prior(-3.0f, 3.0f, 2, kCpu);
  const Tensor theta = prior.sample({3000}, &g);
  const Tensor x = theta + 0.1f * randn_like(theta, &g);
  NRE nre(prior, NreOptions{.variant = variant}, kCpu);
  nre.append_simulations(theta, x);
  TrainOptions t;
  t.max_num_epochs = 60;
  t.show_progress = false;
  t.generator = &g;
  nre.train(t);
  MCMCPosterior posterior =
      nre.build_posterior({.num_chains = 50, .show_progress = false, .generator = &g});
  const Tensor x_o = Tensor::from({0.5f, -1.0f}, {1, 2}, kCpu);
  const Tensor samples = posterior.sample({2000}, x_o);
  const std::vector<float> v = samples.to_vector();
  for (int64_t d = 0; d < 2; ++d) {
    const auto [mean, spread] = centre_and_spread(v, d);
    const double truth = d == 0 ? 0.5 : -1.0;
    // MCMC error of the mean is ~0.005 (2000 draws, ESS several hundred, sd 0.1); the rest is the
    // classifier's approximation error after at most 60 epochs of 3000 simulations: over 12
    // seeds (6 per variant) |mean error| was at most 0.048, so 0.08 leaves room for other seeds
    // while a posterior shifted by one sd (0.1) fails.
    EXPECT_NEAR(mean, truth, 0.08) << "dim " << d;
    // The interquartile spread estimates sd 0.1 robustly against the classifier's heavy tails
    // where no data was seen (measured 0.074-0.145 over the 12 seeds); a classifier that ignores
    // x gives ~1.7 (the prior's), one that ignores theta an unbounded potential.
    EXPECT_GT(spread, 0.05) << "dim " << d;
    EXPECT_LT(spread, 0.2) << "dim " << d;
  }
}

TEST(NreStats, NreBRecoversTheTutorialPosterior) { check_posterior(NreVariant::B, 31); }
TEST(NreStats, NreCRecoversTheTutorialPosterior) { check_posterior(NreVariant::C, 32); }

}  // namespace
}  // namespace cusbi
