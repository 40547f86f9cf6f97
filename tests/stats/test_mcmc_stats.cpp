// MCMCPosterior's slice sampler against analytic targets. Each tolerance is a multiple of the
// Monte Carlo standard error for the sample size and the sampler's measured autocorrelation, so a
// sampler with the wrong invariant distribution (a wrong width update, a missing Jacobian, a
// biased bracket) fails while a correct one passes for any seed with high probability. Seeds
// are fixed.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "cusbi/cusbi.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

// A potential from a per-row log density on the host (CPU tensors).
std::shared_ptr<Potential> host_potential(int64_t dim,
                                          std::function<double(const float* theta)> log_p) {
  return potential_from_function(
      [dim, log_p](const Tensor& theta) {
        const std::vector<float> v = theta.to_vector();
        const int64_t m = theta.size(0);
        std::vector<float> out(static_cast<size_t>(m));
        for (int64_t i = 0; i < m; ++i) out[i] = static_cast<float>(log_p(v.data() + i * dim));
        return Tensor::from(out, {m}, Device::cpu());
      },
      dim, Device::cpu());
}

struct Moments {
  std::vector<double> mean, var;
  double corr01 = 0;
};

Moments moments(const Tensor& samples) {
  const int64_t n = samples.size(0), d = samples.size(1);
  const std::vector<float> v = samples.to_vector();
  Moments m;
  m.mean.assign(d, 0.0);
  m.var.assign(d, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < d; ++k) m.mean[k] += v[i * d + k] / double(n);
  double cov = 0;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < d; ++k) m.var[k] += std::pow(v[i * d + k] - m.mean[k], 2) / double(n);
    if (d > 1) cov += (v[i * d] - m.mean[0]) * (v[i * d + 1] - m.mean[1]) / double(n);
  }
  if (d > 1) m.corr01 = cov / std::sqrt(m.var[0] * m.var[1]);
  return m;
}

MCMCOptions options(int64_t chains, uint64_t seed, Generator& generator) {
  generator.manual_seed(seed);
  MCMCOptions o;
  o.num_chains = chains;
  o.warmup_steps = 50;
  o.show_progress = false;
  o.init_strategy = "proposal";
  o.generator = &generator;
  return o;
}

TEST(McmcStats, StandardNormalOneAndTenDimensions) {
  for (const int64_t d : {int64_t(1), int64_t(10)}) {
    Generator generator;
    auto potential = host_potential(d, [d](const float* t) {
      double s = 0;
      for (int64_t k = 0; k < d; ++k) s += t[k] * t[k];
      return -0.5 * s;
    });
    MultivariateNormal proposal = MultivariateNormal::diagonal(
        Tensor::zeros({d}, Device::cpu()), Tensor::full({d}, 4.0f, Device::cpu()));
    MCMCPosterior posterior(potential, proposal, ThetaTransform(), options(100, 11, generator));
    const Tensor samples = posterior.sample({10000});
    ASSERT_EQ(samples.shape(), (Shape{10000, d}));
    const Moments m = moments(samples);
    // Coordinate-wise slice sampling of an isotropic Gaussian leaves successive sweeps nearly
    // independent (the effective sample size is close to n = 10,000): the mean's standard error
    // is 0.01 and the variance's 0.014; 5 standard errors over d <= 10 dimensions keep a false
    // failure below 1e-5 while a variance off by 10% (a wrong slice) fails.
    for (int64_t k = 0; k < d; ++k) {
      EXPECT_NEAR(m.mean[k], 0.0, 0.05) << "d=" << d << " k=" << k;
      EXPECT_NEAR(m.var[k], 1.0, 0.07) << "d=" << d << " k=" << k;
    }
  }
}

TEST(McmcStats, CorrelatedGaussian) {
  const double rho = 0.9;
  Generator generator;
  auto potential = host_potential(2, [rho](const float* t) {
    return -0.5 * (t[0] * t[0] - 2 * rho * t[0] * t[1] + t[1] * t[1]) / (1 - rho * rho);
  });
  MultivariateNormal proposal = MultivariateNormal::diagonal(
      Tensor::zeros({2}, Device::cpu()), Tensor::full({2}, 1.0f, Device::cpu()));
  MCMCPosterior posterior(potential, proposal, ThetaTransform(), options(200, 12, generator));
  const Moments m = moments(posterior.sample({20000}));
  // Gibbs-like coordinate moves on rho = 0.9 have an integrated autocorrelation time of about
  // (1 + rho^2) / (1 - rho^2) ~ 10 sweeps, so 20,000 draws carry ~2,000 effective ones: standard
  // errors ~0.022 for the means, ~0.03 for the variances, ~0.005 for the correlation.
  EXPECT_NEAR(m.mean[0], 0.0, 0.11);
  EXPECT_NEAR(m.mean[1], 0.0, 0.11);
  EXPECT_NEAR(m.var[0], 1.0, 0.15);
  EXPECT_NEAR(m.var[1], 1.0, 0.15);
  EXPECT_NEAR(m.corr01, rho, 0.025);
}

TEST(McmcStats, Banana) {
  // theta0 ~ N(0, 1), theta1 | theta0 ~ N(b (theta0^2 - 1), 0.5^2): E theta1 = 0,
  // Var theta1 = 2 b^2 + 0.25, E theta0^2 = 1.
  const double b = 0.5;
  Generator generator;
  auto potential = host_potential(2, [b](const float* t) {
    const double r = (t[1] - b * (t[0] * t[0] - 1.0)) / 0.5;
    return -0.5 * t[0] * t[0] - 0.5 * r * r;
  });
  BoxUniform proposal(-3.0f, 3.0f, 2, Device::cpu());
  MCMCPosterior posterior(potential, proposal, ThetaTransform(), options(200, 13, generator));
  const Moments m = moments(posterior.sample({20000}));
  // Curved but well mixed by coordinate moves (autocorrelation time of a few sweeps): ~5,000
  // effective draws, standard errors ~0.014 (mean0), ~0.012 (mean1), ~0.02 (var0), ~0.015 (var1).
  EXPECT_NEAR(m.mean[0], 0.0, 0.07);
  EXPECT_NEAR(m.mean[1], 0.0, 0.07);
  EXPECT_NEAR(m.var[0], 1.0, 0.1);
  EXPECT_NEAR(m.var[1], 2 * b * b + 0.25, 0.08);
}

TEST(McmcStats, TwoModesWeightedByManyChains) {
  // 0.3 N(-3, 0.5^2) + 0.7 N(3, 0.5^2): no chain crosses the gap, so the mode weights come from
  // where the chains start. sbi's resample init from a uniform proposal weights candidates by
  // exp(potential) = the target density, so each chain starts in the right mode with the mode's
  // probability, and the samples reproduce the weights.
  Generator generator;
  auto potential = host_potential(1, [](const float* t) {
    const double a = std::log(0.3) - 0.5 * std::pow((t[0] + 3.0) / 0.5, 2);
    const double c = std::log(0.7) - 0.5 * std::pow((t[0] - 3.0) / 0.5, 2);
    return std::max(a, c) + std::log1p(std::exp(-std::abs(a - c)));
  });
  BoxUniform proposal(-6.0f, 6.0f, 1, Device::cpu());
  MCMCOptions o = options(1000, 14, generator);
  o.init_strategy = "resample";
  o.init_strategy_parameters.num_candidate_samples = 1000;
  o.init_strategy_parameters.shared_candidates = false;  // independent starts: weights' error
  o.warmup_steps = 20;
  MCMCPosterior posterior(potential, proposal, ThetaTransform(), o);
  const Tensor samples = posterior.sample({20000});
  const std::vector<float> v = samples.to_vector();
  double right = 0;
  for (const float x : v) right += x > 0 ? 1.0 / double(v.size()) : 0.0;
  // 1000 independent starts: the right-mode fraction has standard error sqrt(0.21 / 1000) =
  // 0.0145; 4 standard errors.
  EXPECT_NEAR(right, 0.7, 0.058);
  EXPECT_EQ(posterior.last_run().init_evaluations, 1000 * 1000);
}

TEST(McmcStats, TruncatedByBoxThroughLogitTransform) {
  // N(0.8, 0.5^2) truncated to the prior's box [0, 1]: sampled in z = logit(theta), so the
  // transformed potential's Jacobian term matters (without it the mean moves by ~0.1).
  Generator generator;
  BoxUniform prior(0.0f, 1.0f, 1, Device::cpu());
  auto potential = host_potential(1, [](const float* t) {
    if (!(t[0] >= 0.0f && t[0] < 1.0f)) return -HUGE_VAL;
    return -0.5 * std::pow((t[0] - 0.8) / 0.5, 2);
  });
  MCMCPosterior posterior(potential, prior, ThetaTransform::for_prior(prior),
                          options(100, 15, generator));
  const Moments m = moments(posterior.sample({10000}));
  // Truncated normal on [a, b] = [0, 1] with mu 0.8, sigma 0.5: mean mu + sigma (phi(alpha) -
  // phi(beta)) / (Phi(beta) - Phi(alpha)), alpha = -1.6, beta = 0.4.
  auto phi = [](double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); };
  auto Phi = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  const double alpha = -1.6, beta = 0.4, z = Phi(beta) - Phi(alpha);
  const double mean = 0.8 + 0.5 * (phi(alpha) - phi(beta)) / z;
  const double var = 0.25 * (1 + (alpha * phi(alpha) - beta * phi(beta)) / z -
                             std::pow((phi(alpha) - phi(beta)) / z, 2));
  // sd ~0.26, ~5,000 effective draws: standard errors 0.004 (mean) and 0.001 (variance).
  EXPECT_NEAR(m.mean[0], mean, 0.02);
  EXPECT_NEAR(m.var[0], var, 0.006);
}

}  // namespace
}  // namespace cusbi
