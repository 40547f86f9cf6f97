// The tutorial's NPE problem trained to convergence must give the analytic posterior. Prior
// U(-3, 3)^2, simulator x = theta + 0.1 * noise: the true posterior is, per dimension,
// N(theta; x, 0.1^2) truncated to [-3, 3]; at x_o = [1, 1] the truncation lies 20 standard
// deviations away, so samples must have mean 1 and std 0.1 per dimension. A second check scores
// the whole amortised posterior: the expected KL(p || q) over fresh (theta, x) pairs, which is
// the mean of flow.loss minus the true -log p(theta | x), both known exactly here.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numbers>
#include <vector>

#include "support/test_support.hpp"

namespace cusbi {
namespace {

constexpr float kTrueStd = 0.1f;  // the simulator's noise scale = the posterior's std

struct Simulations {
  Tensor theta, x;  // (n, 2) each
};

Simulations simulate(int64_t n, Device device, Generator& generator) {
  Tensor theta = uniform({n, 2}, -3.0f, 3.0f, device, &generator);
  Tensor x = theta + kTrueStd * randn_like(theta, &generator);
  return {theta, x};
}

// -log p(theta | x) of the true posterior, in double: a normal density truncated to the prior box.
double true_neg_log_posterior(double theta, double x) {
  const double z = (theta - x) / kTrueStd;
  const double mass = 0.5 * (std::erfc((x - 3.0) / (kTrueStd * std::numbers::sqrt2)) -
                             std::erfc((x + 3.0) / (kTrueStd * std::numbers::sqrt2)));
  return 0.5 * z * z + 0.5 * std::log(2.0 * std::numbers::pi) + std::log(kTrueStd) + std::log(mass);
}

// Expected KL(p || q) = E[log p(theta | x) - log q(theta | x)] over n fresh pairs.
double expected_kl(NeuralSplineFlow& flow, int64_t n, Device device, Generator& generator) {
  const Simulations s = simulate(n, device, generator);
  const std::vector<float> nlq = flow.loss(s.theta, s.x).to_vector();
  const std::vector<float> theta = s.theta.to_vector(), x = s.x.to_vector();
  double sum = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += nlq[i] - true_neg_log_posterior(theta[2 * i], x[2 * i]) -
           true_neg_log_posterior(theta[2 * i + 1], x[2 * i + 1]);
  return sum / static_cast<double>(n);
}

struct Moments {
  double mean[2], std[2];
};

// Printed so that a passing run still shows how much room the tolerances leave.
void print_measured(const char* what, double kl, const Moments& m) {
  std::printf("[ measured ] %s: KL %.4f, means %.4f %.4f, stds %.4f %.4f\n", what, kl, m.mean[0],
              m.mean[1], m.std[0], m.std[1]);
}

// Per-dimension mean and unbiased std of `num_samples` flow samples at x_o.
Moments posterior_moments(NeuralSplineFlow& flow, const std::vector<float>& x_o,
                          int64_t num_samples, Device device, Generator& generator) {
  const Tensor condition = Tensor::from(x_o, {1, 2}, device);
  const std::vector<float> v = flow.sample({num_samples}, condition, &generator).to_vector();
  Moments m{};
  for (int j = 0; j < 2; ++j) {
    double sum = 0, sum_sq = 0;
    for (int64_t i = 0; i < num_samples; ++i) sum += v[2 * i + j];
    m.mean[j] = sum / num_samples;
    for (int64_t i = 0; i < num_samples; ++i) sum_sq += std::pow(v[2 * i + j] - m.mean[j], 2);
    m.std[j] = std::sqrt(sum_sq / (num_samples - 1));
  }
  return m;
}

// The acceptance criteria of the issue, for samples drawn at x_o = [1, 1]: mean within 0.05 and
// std within 30% of 0.1. With 10,000 samples the Monte Carlo standard errors are 0.001 (mean)
// and 0.7% (std), so the bounds measure the flow's approximation error: converged runs
// (measured, 8 seeds) stay within 0.01 of the mean and 21% of the std, the tutorial's 100
// steps leave stds near 0.7.
::testing::AssertionResult matches_true_posterior(const Moments& m) {
  for (int j = 0; j < 2; ++j) {
    if (!(std::fabs(m.mean[j] - 1.0) <= 0.05 && std::fabs(m.std[j] / kTrueStd - 1.0) <= 0.3))
      return ::testing::AssertionFailure()
             << "dimension " << j << ": mean " << m.mean[j] << " (want 1 +- 0.05), std " << m.std[j]
             << " (want 0.1 +- 30%)";
  }
  return ::testing::AssertionSuccess()
         << "means " << m.mean[0] << ", " << m.mean[1] << "; stds " << m.std[0] << ", " << m.std[1];
}

// Expected KL of a converged flow (measured on the CPU, 8 seeds, 600-800 steps of the training
// below): 0.031-0.038 nats, the approximation error left by this flow and training budget. The
// same training stopped after 200 steps gives 0.06, after 100 steps 0.09; the tutorial's 100
// steps at lr 5e-4 give 1.2. The estimate's Monte Carlo error on 10,000 pairs is about 0.003,
// so 0.05 accepts every converged run and rejects the unfinished ones.
constexpr double kMaxKl = 0.05;

// Training on fresh simulations each step (the simulator is free here) instead of a fixed set of
// 1000: a fixed set lets full-batch Adam overfit (its training loss drops below the true
// conditional entropy and the posterior narrows), so this checks the flow against the analytic
// answer rather than against an overfit. The learning rate decays in quarters so that the
// last steps average the minibatch noise out; gradients are clipped at 5 as sbi's trainer does.
void train(NeuralSplineFlow& flow, int steps, int64_t batch, const std::vector<double>& lrs,
           Device device, Generator& generator) {
  Adam opt(flow.parameters(), flow.gradients(), lrs.front());
  const Tensor grad_mean = Tensor::full({batch}, 1.0f / static_cast<float>(batch), device);
  for (int step = 0; step < steps; ++step) {
    opt.set_lr(lrs[step * lrs.size() / steps]);
    const Simulations s = simulate(batch, device, generator);
    opt.zero_grad();
    flow.loss(s.theta, s.x);
    flow.backward(grad_mean);  // d mean(losses) / d losses
    clip_grad_norm(flow.gradients(), 5.0);
    opt.step();
  }
}

NeuralSplineFlow initial_flow(Device device, Generator& generator) {
  const Simulations s = simulate(1000, device, generator);  // the tutorial's 1000 simulations
  return build_nsf(s.theta, s.x, {}, &generator);
}

void check_converged_posterior(Device device) {
  Generator generator(2024);
  NeuralSplineFlow flow = initial_flow(device, generator);
  // Converged: the KL below stays at 0.033 from step 400 to 800 (measured), 600 leaves margin.
  train(flow, /*steps=*/600, /*batch=*/512, {1e-2, 5e-3, 2e-3, 5e-4}, device, generator);

  const double kl = expected_kl(flow, 10000, device, generator);
  const Moments at_x_o = posterior_moments(flow, {1.0f, 1.0f}, 10000, device, generator);
  print_measured("converged flow at x_o = [1, 1]", kl, at_x_o);
  EXPECT_LT(kl, kMaxKl) << "expected KL(p || q) over fresh pairs";
  EXPECT_GT(kl, -0.01) << "a KL estimate this negative means the loss or the reference is wrong";
  EXPECT_TRUE(matches_true_posterior(at_x_o));
  // The criteria must be able to fail: the same flow sampled at the wrong observation. The true
  // posterior at [1.2, 1] has mean 1.2, 0.2 (200 Monte Carlo errors of the check) away.
  const Moments shifted = posterior_moments(flow, {1.2f, 1.0f}, 10000, device, generator);
  print_measured("the same flow at [1.2, 1]", kl, shifted);
  EXPECT_FALSE(matches_true_posterior(shifted));
}

TEST(NsfPosteriorStats, ConvergedFlowGivesTheAnalyticPosteriorCpu) {
  check_converged_posterior(Device::cpu());
}

TEST(NsfPosteriorStats, ConvergedFlowGivesTheAnalyticPosteriorCuda) {
  CUSBI_REQUIRE_GPU();
  check_converged_posterior(Device::cuda(0));
}

// The tutorial's own recipe (100 full-batch steps at lr 5e-4 on 1000 simulations) is far from
// converged: both criteria must reject it, or they could not tell a trained flow from an
// untrained one.
TEST(NsfPosteriorStats, TutorialLengthTrainingIsRejected) {
  const Device device = Device::cpu();
  Generator generator(7);
  const Simulations s = simulate(1000, device, generator);
  NeuralSplineFlow flow = build_nsf(s.theta, s.x, {}, &generator);
  Adam opt(flow.parameters(), flow.gradients(), 5e-4);
  const Tensor grad_mean = Tensor::full({1000}, 1.0f / 1000.0f, device);
  for (int step = 0; step < 100; ++step) {
    opt.zero_grad();
    flow.loss(s.theta, s.x);
    flow.backward(grad_mean);
    opt.step();
  }
  const double kl = expected_kl(flow, 10000, device, generator);
  const Moments m = posterior_moments(flow, {1.0f, 1.0f}, 10000, device, generator);
  print_measured("after the tutorial's 100 steps", kl, m);
  EXPECT_GT(kl, kMaxKl);
  EXPECT_FALSE(matches_true_posterior(m));
}

}  // namespace
}  // namespace cusbi
