// NPE with the ready-made trainer, sbi's quickstart in cusbi: a BoxUniform prior on [-2, 2]^3,
// a simulator x = theta + 0.1 * noise run by simulate_for_sbi, NPE trained with sbi's defaults
// (batch 200, lr 5e-4, 10% validation, early stopping after 20 epochs), its summary, and
// posterior samples at x_o = (0.5, -0.5, 1), whose mean should be close to x_o and whose spread
// close to 0.1. Runs on Device::best(); CUSBI_DEVICE=cpu|cuda|cuda:N overrides that choice.
#include <cmath>
#include <cstdio>
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

int run() {
  using namespace cusbi;
  const Device device = cusbi_examples::choose_device();
  std::printf("cusbi NPE quickstart on %s\n", device.str().c_str());
  manual_seed(0);  // same seed, same device -> same numbers

  BoxUniform prior(-2.0f, 2.0f, 3, device);
  // Any callable Tensor(const Tensor&) is a simulator; this one is vectorised over its batch.
  Simulator simulator = [](const Tensor& theta) { return theta + 0.1f * randn_like(theta); };
  auto [theta, x] = simulate_for_sbi(simulator, prior, 2000);

  NPE inference(prior, NsfOptions{}, device);
  inference.append_simulations(theta, x).train({.show_train_summary = true});
  const TrainingSummary& summary = inference.summary();
  std::printf("epochs trained %lld, best validation loss %.4f, %.1f ms per epoch\n",
              static_cast<long long>(summary.epochs_trained.back()),
              summary.best_validation_loss.back(), 1e3 * summary.epoch_durations_sec.back());

  DirectPosterior posterior = inference.build_posterior();
  const Tensor x_o = Tensor::from({0.5f, -0.5f, 1.0f}, {1, 3}, device);
  const Tensor samples = posterior.sample({1000}, x_o);
  print_moments(samples);
  return 0;
}

}  // namespace

int main() { return cusbi_examples::run_reporting_errors(run); }
