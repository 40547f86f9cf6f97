// Micro benchmark of MCMCPosterior's many-chain slice sampler against the number of chains:
// potential evaluations per second (the lockstep throughput the GPU port exists for) and
// effective samples per second (min over dimensions of the bulk ESS of chains()), with
//   gaussian  a standard 2-D Gaussian written with cusbi tensor ops (potential_from_function),
//             which run on the tensor's device, so the CUDA case stays on the GPU;
//   nle       the tutorial's NLE potential (seed/18_training_interface.md): build_nsf(x, theta)
//             trained for the tutorial's 100 full-batch Adam steps on 1000 simulations, at
//             x_o = [1, 1], with the prior's logit transform.
// Each run: init "proposal", warm-up 0, k samples per chain (k = 100000 / chains in [4, 100]),
// so 50 tuning + k sweeps. Counters per run: lockstep_calls (batched potential calls) and
// round_trips (last_run().host_round_trips); items/s and evals/s are evaluations per second.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "bench/e2e/e2e_support.hpp"
#include "cusbi/cusbi.hpp"

namespace {

using cusbi::Device;
using cusbi::Tensor;

int64_t samples_per_chain(int64_t chains) {
  return std::clamp<int64_t>(100000 / chains, 4, 100);  // ESS needs >= 4 draws per chain
}

std::unique_ptr<cusbi::MCMCPosterior> gaussian_posterior(Device device) {
  auto potential = cusbi::potential_from_function(
      [](const Tensor& theta) { return -0.5f * cusbi::sum(cusbi::square(theta), 1); }, 2, device);
  return std::make_unique<cusbi::MCMCPosterior>(potential,
                                                cusbi::BoxUniform(-3.0f, 3.0f, 2, device));
}

// The tutorial's trained NLE flow, once per device (training is set-up, not measured).
const cusbi::NeuralSplineFlow& tutorial_flow(Device device) {
  // Never destroyed: device buffers must not be freed after the CUDA runtime shuts down at exit.
  static auto* flows = new std::map<std::string, std::unique_ptr<cusbi::NeuralSplineFlow>>();
  auto& flow = (*flows)[device.str()];
  if (!flow) {
    cusbi::Generator g(0);
    const cusbi::BoxUniform prior(-3.0f, 3.0f, 2, device);
    const auto [theta, x] = cusbi_e2e::tutorial_data(prior, 1000, &g);
    flow = cusbi_e2e::train_tutorial_flow(x, theta, &g);
  }
  return *flow;
}

std::unique_ptr<cusbi::MCMCPosterior> nle_posterior(Device device) {
  const cusbi::BoxUniform prior(-3.0f, 3.0f, 2, device);
  auto [potential, transform] = cusbi::likelihood_estimator_based_potential(
      tutorial_flow(device), prior, cusbi_e2e::x_o_on(device));
  return std::make_unique<cusbi::MCMCPosterior>(potential, prior, transform);
}

// args: number of chains.
void slice_sampling(benchmark::State& state, Device device, bool nle) {
  if (device.is_cuda() && !cusbi::cuda_available()) {
    state.SkipWithError("no GPU");
    return;
  }
  cusbi::set_progress_enabled(false);
  const int64_t chains = state.range(0);
  auto posterior = nle ? nle_posterior(device) : gaussian_posterior(device);
  cusbi::Generator generator(0);
  cusbi::MCMCOptions options;
  options.num_chains = chains;
  options.warmup_steps = 0;
  options.init_strategy = "proposal";
  options.show_progress = false;
  options.generator = &generator;
  const int64_t n = chains * samples_per_chain(chains);
  int64_t evaluations = 0, iterations = 0, round_trips = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(posterior->sample({n}, Tensor(), options));
    cusbi::synchronize(device);
    evaluations += posterior->last_run().potential_evaluations;
    iterations += posterior->last_run().iterations;
    round_trips += posterior->last_run().host_round_trips;
  }
  // Diagnostics of the last run, outside the timed loop.
  const cusbi::Diagnostics d = cusbi::mcmc_diagnostics(posterior->chains());
  const float* ess = d.ess_bulk.data();
  const double min_ess = std::min(ess[0], ess[1]);
  const double runs = double(state.iterations());
  state.SetItemsProcessed(evaluations);
  state.counters["evals/s"] = benchmark::Counter(double(evaluations), benchmark::Counter::kIsRate);
  state.counters["ESS/s"] = benchmark::Counter(min_ess * runs, benchmark::Counter::kIsRate);
  state.counters["lockstep_calls"] = double(iterations) / runs;
  state.counters["round_trips"] = double(round_trips) / runs;
}

void chain_counts(benchmark::internal::Benchmark* b, int64_t max_chains) {
  b->ArgName("chains")->Unit(benchmark::kMillisecond)->UseRealTime();
  for (int64_t c = 10; c <= max_chains; c *= 10) b->Arg(c);
}

}  // namespace

BENCHMARK_CAPTURE(slice_sampling, gaussian_cpu, Device::cpu(), false)->Apply([](auto* b) {
  chain_counts(b, 100000);
});
BENCHMARK_CAPTURE(slice_sampling, gaussian_cuda, Device::cuda(0), false)->Apply([](auto* b) {
  chain_counts(b, 100000);
});
// On the CPU the flow's log_prob bounds the rate (~1e5 rows/s on 2 threads): 1000 chains
// already take tens of seconds per run, so larger counts are left to the GPU.
BENCHMARK_CAPTURE(slice_sampling, nle_cpu, Device::cpu(), true)->Apply([](auto* b) {
  chain_counts(b, 1000);
});
BENCHMARK_CAPTURE(slice_sampling, nle_cuda, Device::cuda(0), true)->Apply([](auto* b) {
  chain_counts(b, 100000);
});

BENCHMARK_MAIN();
