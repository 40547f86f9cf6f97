// NPE with the ready-made trainer, sbi's quickstart in cusbi: a BoxUniform prior on [-2, 2]^3,
// a simulator x = theta + 0.1 * noise run by simulate_for_sbi, NPE trained with sbi's defaults
// (batch 200, lr 5e-4, 10% validation, early stopping after 20 epochs), its summary, and
// posterior samples at x_o = (0.5, -0.5, 1), whose mean should be close to x_o and whose spread
// close to 0.1; then the posterior's other tools: leakage-corrected log_prob, the MAP, batched
// sampling for several observations, a pairplot with the true parameters, and saving and
// loading the posterior. Files go to the folder given as the first argument (default: current).
// Runs on Device::best(); CUSBI_DEVICE=cpu|cuda|cuda:N overrides that choice.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "cusbi/cusbi.hpp"
#include "example_device.hpp"

namespace {

// Per-dimension mean and standard deviation (unbiased) of samples (N, D), on the host.
void print_moments(const cusbi::Tensor& samples) {
  const int64_t n = samples.size(0), d = samples.size(1);
  const std::vector<float> v = samples.to_vector();
  for (int64_t j = 0; j < d; ++j) {
    double sum = 0, sum_sq = 0;
    for (int64_t i = 0; i < n; ++i) sum += v[i * d + j];
    const double mean = sum / n;
    for (int64_t i = 0; i < n; ++i) sum_sq += (v[i * d + j] - mean) * (v[i * d + j] - mean);
    std::printf("theta_%lld: posterior mean %.3f, std %.3f\n", static_cast<long long>(j + 1), mean,
                std::sqrt(sum_sq / (n - 1)));
  }
}

std::filesystem::path g_output = ".";

int run() {
  using namespace cusbi;
  const Device device = cusbi_examples::choose_device();
  std::printf("cusbi NPE quickstart on %s\n", device.str().c_str());
  manual_seed(0);  // same seed, same device -> same numbers

  BoxUniform prior(-2.0f, 2.0f, 3, device);
  // Any callable Tensor(const Tensor&) is a simulator; this one is vectorised over its batch.
  Simulator simulator = [](const Tensor& theta) { return theta + 0.1f * randn_like(theta); };
  auto [theta, x] = simulate_for_sbi(simulator, prior, 2000);

  NPE inference(prior, device);
  inference.append_simulations(theta, x).train({.show_train_summary = true});
  const TrainingSummary& summary = inference.summary();
  std::printf("epochs trained %lld, best validation loss %.4f, %.1f ms per epoch\n",
              static_cast<long long>(summary.epochs_trained.back()),
              summary.best_validation_loss.back(), 1e3 * summary.epoch_durations_sec.back());

  DirectPosterior posterior = inference.build_posterior();
  const Tensor x_o = Tensor::from({0.5f, -0.5f, 1.0f}, {1, 3}, device);
  posterior.set_default_x(x_o);
  const Tensor samples = posterior.sample({1000});
  print_moments(samples);

  // log_prob subtracts log P(theta in prior | x_o), estimated once by rejection and cached.
  const Tensor log_probs = posterior.log_prob(samples.slice_rows(0, 3));
  const std::vector<float> lp = log_probs.to_vector();
  std::printf("log_prob of 3 samples: %.3f %.3f %.3f (acceptance %.3f)\n", lp[0], lp[1], lp[2],
              posterior.leakage_correction(x_o));
  const std::vector<float> mode = posterior.map().to_vector();
  std::printf("MAP: (%.3f, %.3f, %.3f)\n", mode[0], mode[1], mode[2]);

  // Amortisation: 500 samples for each of 4 new observations at once.
  const Tensor theta_true = prior.sample({4});
  const Tensor xs = simulator(theta_true);
  const Tensor batched = posterior.sample_batched({500}, xs);  // (500, 4, 3)
  std::printf("sample_batched: %s\n", shape_str(batched.shape()).c_str());

  if (plot_available())  // builds without cairo lay figures out but cannot draw them
    pairplot(samples, {.limits = {{-2, 2}}, .upper = "contour",
                       .labels = {"theta_1", "theta_2", "theta_3"},
                       .points = {x_o}, .figsize = {6, 6}})
        .save(g_output / "npe_quickstart_posterior.png");

  const std::filesystem::path file = g_output / "npe_quickstart_posterior.safetensors";
  save(posterior, file);
  DirectPosterior loaded = load_direct_posterior(file, device);
  std::printf("saved and loaded %s (%s, default x kept: %s)\n", file.string().c_str(),
              loaded.prior().describe().c_str(), loaded.default_x().defined() ? "yes" : "no");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) g_output = argv[1];
  return cusbi_examples::run_reporting_errors(run);
}
