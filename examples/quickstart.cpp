// Quickstart: the training loop every cusbi estimator runs, on a problem small enough to read.
// Draw parameters theta ~ U(-3, 3)^2, "simulate" x = theta + 0.1 * noise, and fit a ResidualNet
// that predicts theta from x by mean squared error. cusbi has no general autograd: the loss
// gradient is written by hand and handed to backward(), exactly as a custom loss would be.
// Runs on Device::best() (the first usable GPU, else the CPU); CUSBI_DEVICE=cpu|cuda|cuda:N
// overrides that choice.
#include <chrono>
#include <cstdio>

#include "cusbi/cusbi.hpp"
#include "example_device.hpp"

namespace {

// Mean over all elements of (prediction - target)^2, as torch.nn.MSELoss(). Only used for
// printing: reading a value back waits for the device, so the loop does it every 50 steps.
float mse(const cusbi::Tensor& prediction, const cusbi::Tensor& target) {
  return cusbi::sum_all(cusbi::square(prediction - target)) / static_cast<float>(target.numel());
}

int run() {
  using namespace cusbi;
  const Device device = cusbi_examples::choose_device();
  std::printf("cusbi quickstart on %s\n", device.str().c_str());

  constexpr int64_t kNumSamples = 1000;  // full batch: every step sees all samples
  constexpr int kSteps = 300;
  manual_seed(0);  // same seed, same device -> same numbers

  // The "simulator": tensor ops on the chosen device. theta, x: (1000, 2).
  const Tensor theta = uniform({kNumSamples, 2}, -3.0f, 3.0f, device);
  const Tensor x = theta + 0.1f * randn_like(theta);

  // nflows' ResidualNet: 2 -> 50 hidden (2 residual blocks) -> 2, no context.
  ResidualNet net({.in_features = 2, .out_features = 2, .hidden_features = 50}, device);
  // Adam updates the network's flat parameter buffer in place from its flat gradient buffer.
  Adam optimizer(net.parameters(), net.gradients(), /*lr=*/1e-3);

  const float grad_scale = 2.0f / static_cast<float>(theta.numel());
  const auto start = std::chrono::steady_clock::now();
  for (int step = 1; step <= kSteps; ++step) {
    optimizer.zero_grad();
    const Tensor prediction = net.forward(x);  // (1000, 2)
    // d/dprediction of mean((prediction - theta)^2) = 2 (prediction - theta) / numel.
    net.backward((prediction - theta) * grad_scale);
    clip_grad_norm(net.gradients(), 5.0);  // as sbi's trainers do
    optimizer.step();
    if (step == 1 || step % 50 == 0)
      std::printf("step %4d  loss %.5f\n", step, mse(prediction, theta));
  }
  synchronize(device);  // GPU work is queued asynchronously; wait before reading the clock
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // The noise has variance 0.01 per coordinate, so a good fit ends close to 0.01.
  std::printf("final loss %.5f after %d steps\n", mse(net.forward(x), theta), kSteps);
  std::printf("wall time %.3f s, %.1f steps/s\n", seconds, kSteps / seconds);
  return 0;
}

}  // namespace

int main() { return cusbi_examples::run_reporting_errors(run); }
