// Micro benchmark of one optimisation step over a flat parameter buffer, as every trainer does
// it: clip_grad_norm (a deterministic global-norm reduction, then a scale) followed by Adam.step.
// Both are memory-bound, so the counter that matters is the effective bandwidth ("GB" per
// second) under the byte model below; GPU runs synchronise every iteration.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "cusbi/cusbi.hpp"

namespace {

using cusbi::Device;
using cusbi::Tensor;

// Bytes per parameter touched at least once: norm reads g (4), scale reads and writes g (8),
// Adam reads g, p, m, v and writes p, m, v (28).
constexpr double kBytesPerParameter = 40.0;

// args: number of parameters.
void adam_clip_step(benchmark::State& state, Device device) {
  if (device.is_cuda() && !cusbi::cuda_available()) {
    state.SkipWithError("no GPU");
    return;
  }
  const int64_t n = state.range(0);
  cusbi::Generator generator(0);
  Tensor params = cusbi::randn({n}, device, &generator);
  Tensor grads = cusbi::randn({n}, device, &generator);
  cusbi::Adam optimizer(params, grads, /*lr=*/5e-4);
  for (auto _ : state) {
    benchmark::DoNotOptimize(cusbi::clip_grad_norm(grads, 5.0));
    optimizer.step();
    cusbi::synchronize(device);
  }
  state.SetItemsProcessed(state.iterations() * n);  // parameters updated per second
  state.counters["GB"] = benchmark::Counter(kBytesPerParameter * n * 1e-9,
                                            benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK_CAPTURE(adam_clip_step, cpu, Device::cpu())
    ->ArgName("params")
    ->Arg(100000)
    ->Arg(1000000)
    ->UseRealTime();
BENCHMARK_CAPTURE(adam_clip_step, cuda, Device::cuda(0))
    ->ArgName("params")
    ->Arg(100000)
    ->Arg(1000000)
    ->UseRealTime();

BENCHMARK_MAIN();
