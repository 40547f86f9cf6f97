// The cusbi side of bench/e2e: sbi tutorial 18's NPE custom loop, timed, printed as JSON with
// the keys of tools/e2e_sbi_custom_loop.py (scripts/e2e_compare.sh reads both). 1000
// simulations theta ~ U(-3, 3)^2, x = theta + 0.1 noise; build_nsf; Adam at lr 5e-4; 100
// full-batch steps; 1000 samples at x_o = [1, 1]. Build, loop and sampling are timed apart
// (synchronising with the device before each clock read); each repeat starts from new
// simulations and a new flow, and the medians are printed next to every repeat.
//   bench_e2e_custom_loop [--device cpu|cuda|cuda:N] [--repeats 3] [--seed 0]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cusbi/cusbi.hpp"
#include "e2e_support.hpp"

namespace {

using cusbi::Device;
using cusbi::Tensor;
using Clock = std::chrono::steady_clock;

constexpr int64_t kNumSimulations = 1000;
constexpr int kNumSteps = 100;
constexpr int64_t kNumSamples = 1000;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Per-dimension mean and unbiased std of samples (N, D), as torch's mean(0) and std(0).
void moments(const Tensor& samples, nlohmann::json& run) {
  const int64_t n = samples.size(0), d = samples.size(1);
  const std::vector<float> v = samples.to_vector();
  std::vector<double> mean(d, 0.0), std(d, 0.0);
  for (int64_t j = 0; j < d; ++j) {
    for (int64_t i = 0; i < n; ++i) mean[j] += v[i * d + j];
    mean[j] /= n;
    for (int64_t i = 0; i < n; ++i) std[j] += (v[i * d + j] - mean[j]) * (v[i * d + j] - mean[j]);
    std[j] = std::sqrt(std[j] / (n - 1));
  }
  run["sample_mean"] = mean;
  run["sample_std"] = std;
}

nlohmann::json one_run(Device device, uint64_t seed) {
  cusbi::Generator generator(seed);
  const auto [theta, x] = cusbi_e2e::uniform_simulations(kNumSimulations, device, &generator);
  cusbi::synchronize(device);

  auto start = Clock::now();
  cusbi::NeuralSplineFlow flow = cusbi::build_nsf(theta, x, {}, &generator);
  cusbi::synchronize(device);
  const double build_s = seconds_since(start);

  start = Clock::now();
  cusbi::Adam opt(flow.parameters(), flow.gradients(), 5e-4);
  // d mean(losses) / d losses: torch builds this inside loss.backward().
  const Tensor grad_mean =
      Tensor::full({kNumSimulations}, 1.0f / static_cast<float>(kNumSimulations), device);
  Tensor losses;
  for (int step = 0; step < kNumSteps; ++step) {
    opt.zero_grad();
    losses = flow.loss(theta, x);
    flow.backward(grad_mean);
    opt.step();
  }
  cusbi::synchronize(device);
  const double train_s = seconds_since(start);

  const Tensor x_o = Tensor::from({1.0f, 1.0f}, {1, 2}, device);
  start = Clock::now();
  const Tensor samples = flow.sample({kNumSamples}, x_o, &generator);
  cusbi::synchronize(device);
  const double sample_s = seconds_since(start);

  nlohmann::json run{{"build_s", build_s},
                     {"train_s", train_s},
                     {"sample_s", sample_s},
                     {"total_s", build_s + train_s + sample_s},
                     {"final_loss", cusbi::sum_all(losses) / kNumSimulations}};
  moments(samples.reshape({kNumSamples, 2}), run);
  return run;
}

int run(int argc, char** argv) {
  std::string device_name = "cpu";
  int repeats = 3;
  uint64_t seed = 0;
  cusbi_e2e::Options("use --device, --repeats, --seed")
      .common(&device_name, &repeats, &seed)
      .parse(argc, argv);
  const Device device = cusbi_e2e::usable_device(device_name);

  nlohmann::json runs = nlohmann::json::array();
  for (int r = 0; r < repeats; ++r) runs.push_back(one_run(device, seed + r));
  nlohmann::json result = cusbi_e2e::machine_json(device, repeats);
  result.update({{"num_simulations", kNumSimulations},
                 {"num_steps", kNumSteps},
                 {"num_samples", kNumSamples}});
  for (const char* key : {"build_s", "train_s", "sample_s", "total_s"}) {
    std::vector<double> values;
    for (const auto& r : runs) values.push_back(r[key].get<double>());
    result[key] = cusbi_e2e::median(values);
  }
  result["runs"] = runs;
  std::printf("%s\n", result.dump(2).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return cusbi_e2e::main_reporting_errors(run, argc, argv); }
