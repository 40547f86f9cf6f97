// sbi's tutorial 18 ("More flexibility over the training loop and samplers"), NPE and NLE
// sections, in cusbi: simulate 1000 pairs from BoxUniform(-3, 3)^2 with x = theta + 0.1 * noise,
// build_nsf(theta, x), train it with a hand-written loop (100 full-batch Adam steps at lr 5e-4,
// exactly the tutorial's), draw 1000 flow samples at x_o = [1, 1] and pairplot them, then wrap
// the flow in a DirectPosterior (rejection outside the prior) and sample and plot again. NLE:
// build_nsf(x, theta) trained by the same loop on flow.loss(x, theta), then
// likelihood_estimator_based_potential and an MCMCPosterior with 50 chains (slice sampling,
// resample init) for 1000 samples, plotted with contours. NRE: build_resnet_classifier(x, theta),
// 300 steps of the tutorial's hand-written contrastive loop (classifier_logits with 10 atoms,
// logits[:, 0] - logsumexp, -mean: nre_b_loss), then ratio_estimator_based_potential and an
// MCMCPosterior with 100 chains. The gradient of each loss is handed to backward() by hand: cusbi
// has no general autograd.
// Runs on Device::best(); CUSBI_DEVICE=cpu|cuda|cuda:N overrides that choice. The pictures go
// to the folder given as the first argument (default: the current folder).
//   ./build/examples/training_interface [output-folder]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cusbi/cusbi.hpp"
#include "example_device.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Per-dimension mean and standard deviation (unbiased, as torch.std) of samples (N, D),
// computed on the host in double.
void print_moments(const cusbi::Tensor& samples) {
  const int64_t n = samples.size(0), d = samples.size(1);
  const std::vector<float> values = samples.to_vector();
  for (int64_t j = 0; j < d; ++j) {
    double sum = 0, sum_sq = 0;
    for (int64_t i = 0; i < n; ++i) sum += values[i * d + j];
    const double mean = sum / n;
    for (int64_t i = 0; i < n; ++i)
      sum_sq += (values[i * d + j] - mean) * (values[i * d + j] - mean);
    std::printf("theta_%lld: sample mean %.3f, sample std %.3f\n", static_cast<long long>(j + 1),
                mean, std::sqrt(sum_sq / (n - 1)));
  }
}

std::filesystem::path g_output = ".";

// Writes the tutorial's pairplot (limits [-3, 3]^2, figsize (3, 3)) as PNG and SVG.
void plot(const cusbi::Tensor& samples, const std::string& name, const char* upper = "hist") {
  if (!cusbi::plot_available()) {
    std::printf("pairplot %s skipped: this cusbi was built without cairo\n", name.c_str());
    return;
  }
  const cusbi::Figure figure =
      cusbi::pairplot(samples, {.limits = {{-3, 3}, {-3, 3}}, .upper = upper, .figsize = {3, 3}});
  for (const char* ext : {".png", ".svg"}) figure.save(g_output / (name + ext));
  std::printf("pairplot: %s.png and .svg\n", (g_output / name).string().c_str());
}

// The tutorial's training loop: 100 full-batch Adam steps (lr 5e-4) on mean(flow.loss(input,
// condition)); prints the mean loss now and then, returns the seconds it took.
double train_loop(cusbi::NeuralSplineFlow& flow, const cusbi::Tensor& input,
                  const cusbi::Tensor& condition, int steps) {
  using namespace cusbi;
  const int64_t n = input.size(0);
  Adam opt(flow.parameters(), flow.gradients(), /*lr=*/5e-4);
  // d mean(losses) / d losses_i = 1 / B for every i: made once, reused by every step.
  const Tensor grad_mean = Tensor::full({n}, 1.0f / static_cast<float>(n), input.device());
  const auto start = Clock::now();
  Tensor losses;
  for (int step = 1; step <= steps; ++step) {
    opt.zero_grad();
    losses = flow.loss(input, condition);  // (1000,): -log q(input_i | condition_i)
    flow.backward(grad_mean);              // loss = mean(losses); loss.backward()
    opt.step();
    // Reading the loss waits for the device, so print it only now and then.
    if (step == 1 || step % 25 == 0)
      std::printf("step %3d  mean loss %.4f\n", step, sum_all(losses) / static_cast<float>(n));
  }
  synchronize(input.device());  // GPU work is queued asynchronously; wait before the clock
  std::printf("Shape of losses: %s\n", shape_str(losses.shape()).c_str());
  return seconds_since(start);
}

// The tutorial's NLE section: the likelihood flow q(x | theta), its potential and MCMC.
void run_nle(const cusbi::BoxUniform& prior, const cusbi::Tensor& theta, const cusbi::Tensor& x,
             const cusbi::Tensor& x_o, cusbi::Generator& generator) {
  using namespace cusbi;
  std::printf("\n-- Neural Likelihood Estimation --\n");
  // Note that the order of x and theta are reversed in comparison to NPE.
  NeuralSplineFlow density_estimator = build_nsf(x, theta, {}, &generator);
  const double train_seconds = train_loop(density_estimator, x, theta, 100);

  auto [potential, tf] = likelihood_estimator_based_potential(density_estimator, prior, x_o);
  MCMCPosterior posterior(
      potential, /*proposal=*/prior, tf,
      {.num_chains = 50, .thin = 1, .method = "slice_np_vectorized", .generator = &generator});
  const Tensor samples = posterior.sample({1000}, x_o);
  const MCMCRunInfo& run = posterior.last_run();
  std::printf("Shape of samples: %s\n", shape_str(samples.shape()).c_str());
  print_moments(samples);
  const Diagnostics d = posterior.diagnostics();
  const std::vector<float> rhat = d.rhat.to_vector(), ess = d.ess_bulk.to_vector();
  std::printf("R-hat %.3f %.3f, bulk ESS %.0f %.0f (of %lld chains x %lld kept draws)\n", rhat[0],
              rhat[1], ess[0], ess[1], static_cast<long long>(posterior.chains().size(0)),
              static_cast<long long>(posterior.chains().size(1)));
  plot(samples, "nle_posterior_samples", "contour");
  std::printf(
      "NLE training loop: %.3f s; MCMC: %.3f s (init %lld potential evaluations, "
      "%lld lockstep iterations x 50 chains, %lld host round trips)\n",
      train_seconds, run.seconds, static_cast<long long>(run.init_evaluations),
      static_cast<long long>(run.iterations), static_cast<long long>(run.host_round_trips));
}

// The tutorial's NRE section: a classifier trained by the hand-written contrastive loop, then
// MCMC on the ratio potential.
void run_nre(const cusbi::BoxUniform& prior, const cusbi::Tensor& theta, const cusbi::Tensor& x,
             const cusbi::Tensor& x_o, cusbi::Generator& generator) {
  using namespace cusbi;
  std::printf("\n-- Neural Ratio Estimation --\n");
  RatioClassifier net = build_resnet_classifier(x, theta, {}, &generator);  // as the tutorial
  Adam opt(net.parameters(), net.gradients(), /*lr=*/5e-4);
  constexpr int64_t kNumAtoms = 10;
  const int64_t batch_size = theta.size(0);
  const auto start = Clock::now();
  for (int step = 1; step <= 300; ++step) {
    opt.zero_grad();
    const Tensor logits = classifier_logits(net, theta, x, kNumAtoms, &generator);  // (B K,)
    // log_probs = logits[:, 0] - logsumexp(logits, -1); loss = -mean(log_probs)
    auto [loss, grad] = nre_b_loss(logits.reshape({batch_size, kNumAtoms}));
    net.backward(grad.reshape({batch_size * kNumAtoms}));  // loss.backward()
    opt.step();
    if (step == 1 || step % 100 == 0) std::printf("step %3d  loss %.4f\n", step, loss.item());
  }
  synchronize(x.device());
  const double train_seconds = seconds_since(start);

  auto [potential, tf] = ratio_estimator_based_potential(net, prior, x_o);
  MCMCPosterior posterior(
      potential, /*proposal=*/prior, tf,
      {.num_chains = 100, .method = "slice_np_vectorized", .generator = &generator});
  const Tensor samples = posterior.sample({1000}, x_o);
  std::printf("Shape of samples: %s\n", shape_str(samples.shape()).c_str());
  print_moments(samples);
  plot(samples, "nre_posterior_samples");
  std::printf("NRE training loop: %.3f s; MCMC: %.3f s (%lld lockstep iterations x 100 chains)\n",
              train_seconds, posterior.last_run().seconds,
              static_cast<long long>(posterior.last_run().iterations));
}

int run() {
  using namespace cusbi;
  const Device device = cusbi_examples::choose_device();
  std::printf("cusbi training interface (sbi tutorial 18: NPE, NLE, NRE) on %s\n",
              device.str().c_str());

  constexpr int64_t kNumSimulations = 1000;
  constexpr int kSteps = 100;
  constexpr int64_t kNumSamples = 1000;
  Generator generator(0);  // same seed, same device -> same numbers

  // prior = BoxUniform(-3 * ones(2), 3 * ones(2)); theta = prior.sample((1000,)).
  const BoxUniform prior(-3.0f, 3.0f, 2, device);
  const Tensor theta = prior.sample({kNumSimulations}, &generator);
  const Tensor x = theta + 0.1f * randn_like(theta, &generator);  // the simulator
  std::printf("Shape of theta: %s\nShape of x: %s\n", shape_str(theta.shape()).c_str(),
              shape_str(x.shape()).c_str());

  // The neural spline flow with sbi's defaults; z-scoring statistics come from theta and x.
  NeuralSplineFlow density_estimator = build_nsf(theta, x, {}, &generator);
  const double train_seconds = train_loop(density_estimator, theta, x, kSteps);

  const Tensor x_o = Tensor::from({1.0f, 1.0f}, {1, 2}, device);
  std::printf("Shape of x_o: %s            # Must have a batch dimension\n",
              shape_str(x_o.shape()).c_str());
  const auto sample_start = Clock::now();
  Tensor samples = density_estimator.sample({kNumSamples}, x_o, &generator);
  synchronize(device);
  const double sample_seconds = seconds_since(sample_start);
  std::printf("Shape of samples: %s  # Samples are returned with a batch dimension.\n",
              shape_str(samples.shape()).c_str());
  samples = samples.reshape({kNumSamples, 2});  // samples.squeeze(dim=1)
  std::printf("Shape of samples: %s     # Removed batch dimension.\n",
              shape_str(samples.shape()).c_str());

  // 100 steps leave the flow far from converged: the posterior is centred near x_o but much
  // wider than the true std 0.1 (tests/stats/test_nsf_posterior_stats.cpp trains to the end).
  print_moments(samples);
  plot(samples, "npe_flow_samples");

  // posterior = DirectPosterior(density_estimator, prior): rejects samples outside the prior.
  DirectPosterior posterior(density_estimator, prior);
  std::printf("Shape of x_o: %s\n", shape_str(x_o.shape()).c_str());
  SampleOptions sample_options;
  sample_options.generator = &generator;
  const auto posterior_start = Clock::now();
  const Tensor posterior_samples = posterior.sample({kNumSamples}, x_o, sample_options);
  synchronize(device);
  const double posterior_seconds = seconds_since(posterior_start);
  std::printf("Shape of samples: %s\n", shape_str(posterior_samples.shape()).c_str());
  print_moments(posterior_samples);
  std::printf("acceptance rate %.3f\n", posterior.last_acceptance_rates().at(0));
  plot(posterior_samples, "npe_posterior_samples");

  std::printf(
      "training loop: %.3f s (%.1f steps/s); flow sampling %lld: %.4f s; posterior "
      "sampling: %.4f s\n",
      train_seconds, kSteps / train_seconds, static_cast<long long>(kNumSamples), sample_seconds,
      posterior_seconds);

  run_nle(prior, theta, x, x_o, generator);
  run_nre(prior, theta, x, x_o, generator);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) g_output = argv[1];
  return cusbi_examples::run_reporting_errors(run);
}
