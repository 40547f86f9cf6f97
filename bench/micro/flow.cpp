// Micro benchmarks of the neural spline flow of sbi's tutorial (build_nsf defaults, D = 2,
// C = 2): log_prob, loss + backward (one training step without the optimiser), the whole
// training step (with clipping and Adam) and sample, on the CPU and on CUDA, at batch sizes
// 200 ... 1,000,000. items_per_second = samples/s; GPU runs
// synchronise every iteration. "mem_MB" is what the process can measure, named by each run's
// label: on the CPU the peak resident set growth over the benchmark (flow, inputs, workspaces,
// outputs); on CUDA the device memory held after the timed loop (cudaMemGetInfo, which misses
// freed temporaries: cusbi has no allocator statistics yet).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "cusbi/cusbi.hpp"

#if defined(CUSBI_BENCH_CUDART)
#include <cuda_runtime_api.h>
#endif

namespace {

using cusbi::Device;
using cusbi::Tensor;

constexpr int64_t kDim = 2;  // theta and x of the tutorial: 2-d each

// Resident set (or its high-water mark) in bytes, from /proc/self/status.
int64_t proc_status_bytes(const std::string& key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(key + ":", 0) == 0) return std::stoll(line.substr(key.size() + 1)) * 1024;
  return 0;
}

// Measures memory over one benchmark: start() before the flow exists, stop() after the loop.
class MemoryProbe {
 public:
  explicit MemoryProbe(Device device) : device_(device) {
    if (device_.is_cpu()) {
      malloc_trim(0);  // free heap pages left resident by earlier runs would hide the growth
      std::ofstream("/proc/self/clear_refs") << "5";  // resets VmHWM to the current VmRSS
      start_ = proc_status_bytes("VmRSS");
    } else {
      start_ = device_used_bytes();
    }
  }
  void report(benchmark::State& state) const {
    const int64_t end = device_.is_cpu() ? proc_status_bytes("VmHWM") : device_used_bytes();
    state.counters["mem_MB"] = static_cast<double>(end - start_) / (1 << 20);
    state.SetLabel(device_.is_cpu() ? "mem: peak RSS growth" : "mem: device memory held");
  }

 private:
  int64_t device_used_bytes() const {
#if defined(CUSBI_BENCH_CUDART)
    size_t free_bytes = 0, total_bytes = 0;
    cudaSetDevice(device_.index());
    if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess)
      return static_cast<int64_t>(total_bytes - free_bytes);
#endif
    return 0;
  }
  Device device_;
  int64_t start_ = 0;
};

// The tutorial's flow: build_nsf on 1000 simulations theta ~ U(-3, 3)^2, x = theta + 0.1 noise.
cusbi::NeuralSplineFlow tutorial_flow(Device device, cusbi::Generator& generator,
                                      int64_t num_transforms = 5) {
  const Tensor theta = cusbi::uniform({1000, kDim}, -3.0f, 3.0f, device, &generator);
  const Tensor x = theta + 0.1f * cusbi::randn_like(theta, &generator);
  cusbi::NsfOptions options;
  options.num_transforms = num_transforms;
  return cusbi::build_nsf(theta, x, options, &generator);
}

bool skip_without_gpu(benchmark::State& state, const Device& device) {
  if (device.is_cuda() && !cusbi::cuda_available()) {
    state.SkipWithError("no GPU");
    return true;
  }
  return false;
}

// log q(theta | x) for `batch` (theta, x) pairs into a preallocated (1, batch) output: the
// allocation-free form MCMC uses. args: batch, num_transforms.
void log_prob(benchmark::State& state, Device device) {
  if (skip_without_gpu(state, device)) return;
  const int64_t batch = state.range(0);
  const MemoryProbe memory(device);
  cusbi::Generator generator(0);
  auto flow = tutorial_flow(device, generator, state.range(1));
  const Tensor theta = cusbi::uniform({batch, kDim}, -3.0f, 3.0f, device, &generator);
  const Tensor x = theta + 0.1f * cusbi::randn_like(theta, &generator);
  Tensor out = Tensor::empty({1, batch}, device);
  for (auto _ : state) {
    flow.log_prob(theta, x, out);
    cusbi::synchronize(device);
  }
  state.SetItemsProcessed(state.iterations() * batch);
  memory.report(state);
}

// loss + backward of the mean loss over `batch` pairs (a training step minus Adam, which
// bench_optim measures).
void loss_backward(benchmark::State& state, Device device) {
  if (skip_without_gpu(state, device)) return;
  const int64_t batch = state.range(0);
  const MemoryProbe memory(device);
  cusbi::Generator generator(0);
  auto flow = tutorial_flow(device, generator, state.range(1));
  const Tensor theta = cusbi::uniform({batch, kDim}, -3.0f, 3.0f, device, &generator);
  const Tensor x = theta + 0.1f * cusbi::randn_like(theta, &generator);
  const Tensor grad = Tensor::full({batch}, 1.0f / static_cast<float>(batch), device);
  for (auto _ : state) {
    flow.loss(theta, x);
    flow.backward(grad);
    cusbi::synchronize(device);
  }
  state.SetItemsProcessed(state.iterations() * batch);
  memory.report(state);
}

// One training step as sbi's trainer takes it: loss, backward of the mean, gradient clipping at
// 5 and an Adam step (scripts/oversubscription.sh times it beside busy processes).
void train_step(benchmark::State& state, Device device) {
  if (skip_without_gpu(state, device)) return;
  const int64_t batch = state.range(0);
  cusbi::Generator generator(0);
  auto flow = tutorial_flow(device, generator, state.range(1));
  flow.set_check_training_inputs(false);  // as the trainer: data checked once
  cusbi::Adam adam(flow.parameters(), flow.gradients(), 5e-4);
  const Tensor theta = cusbi::uniform({batch, kDim}, -3.0f, 3.0f, device, &generator);
  const Tensor x = theta + 0.1f * cusbi::randn_like(theta, &generator);
  const Tensor grad = Tensor::full({batch}, 1.0f / static_cast<float>(batch), device);
  Tensor loss = Tensor::empty({batch}, device);
  for (auto _ : state) {
    flow.zero_grad();
    flow.loss(theta, x, loss);
    flow.backward(grad);
    cusbi::clip_grad_norm_on_device(flow.gradients(), 5.0);
    adam.step();
    cusbi::synchronize(device);
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

// `batch` posterior samples at one observation x_o = [1, 1], as the tutorial draws them.
void sample(benchmark::State& state, Device device) {
  if (skip_without_gpu(state, device)) return;
  const int64_t batch = state.range(0);
  const MemoryProbe memory(device);
  cusbi::Generator generator(0);
  auto flow = tutorial_flow(device, generator, state.range(1));
  const Tensor x_o = Tensor::from({1.0f, 1.0f}, {1, kDim}, device);
  for (auto _ : state) {
    benchmark::DoNotOptimize(flow.sample({batch}, x_o, &generator));
    cusbi::synchronize(device);
  }
  state.SetItemsProcessed(state.iterations() * batch);
  memory.report(state);
}

const std::vector<int64_t> kBatches{200, 1000, 10000, 100000, 1000000};

void register_all() {
  using Fn = void (*)(benchmark::State&, Device);
  const std::vector<std::pair<std::string, Fn>> ops{
      {"log_prob", &log_prob}, {"loss_backward", &loss_backward}, {"sample", &sample}};
  for (const Device device : {Device::cpu(), Device::cuda(0)})
    for (const int64_t batch : {200, 10000})
      benchmark::RegisterBenchmark(device.is_cpu() ? "train_step/cpu" : "train_step/cuda",
                                   &train_step, device)
          ->ArgNames({"batch", "transforms"})
          ->Args({batch, 5})
          ->UseRealTime();
  for (const auto& [op, fn] : ops) {
    for (const Device device : {Device::cpu(), Device::cuda(0)}) {
      const std::string name = op + "/" + (device.is_cpu() ? "cpu" : "cuda");
      for (const int64_t batch : kBatches) {
        auto* b = benchmark::RegisterBenchmark(name.c_str(), fn, device);
        b->ArgNames({"batch", "transforms"})->Args({batch, 5})->UseRealTime();
        // A CPU pass over 10^6 samples takes seconds: one is enough for a rate. (CPU
        // loss_backward at 10^6 holds ~14 GB of activations for backward; see bench/RESULTS.md.)
        if (device.is_cpu() && batch >= 1000000) b->Iterations(1);
      }
      // Twice the transforms at batch 10^5: log_prob's workspace should not grow with them.
      if (op == "log_prob")
        benchmark::RegisterBenchmark(name.c_str(), fn, device)
            ->ArgNames({"batch", "transforms"})
            ->Args({100000, 10})
            ->UseRealTime();
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
