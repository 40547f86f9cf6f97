// The cusbi side of tools/e2e_nflows_proxy.py (same keys, same workloads, seed/18's flow: D = C
// = 2, sbi's build_nsf defaults): the tutorial's 100 full-batch steps on 1000 simulations, one
// training step at batch 200 as sbi's trainer takes it (loss, backward, clip at 5, Adam),
// log_prob and sampling at batch --big. For machines without sbi (the GPU machines): the
// Python side times sbi's network built from nflows; scripts/e2e_compare_proxy.sh compares.
// On a GPU it also reports the kernel launches, cuBLAS calls and host round-trips of one step
// and of one log_prob call (cuda::counters(); --counts: only those, no timing).
//   bench_e2e_step [--device cpu|cuda|cuda:N] [--repeats 3] [--big 1000000] [--counts 1]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cusbi/cusbi.hpp"
#include "e2e_support.hpp"
#include "kernels/api/runtime.h"

namespace {

using cusbi::Device;
using cusbi::Tensor;
using Clock = std::chrono::steady_clock;

// Median seconds of f() over `repeats`, with the device idle before and after each.
template <class F>
double timed(Device device, int repeats, F&& f) {
  std::vector<double> seconds;
  for (int r = 0; r < repeats; ++r) {
    cusbi::synchronize(device);
    const auto start = Clock::now();
    f();
    cusbi::synchronize(device);
    seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  return cusbi_e2e::median(seconds);
}

// What one call of f() asks of the GPU (after a warm-up call): kernel launches, cuBLAS calls,
// host round-trips. Null on the CPU.
template <class F>
nlohmann::json counted(Device device, F&& f) {
  if (!device.is_cuda()) return nullptr;
  f();
  cusbi::synchronize(device);
  const cusbi::cuda::Counters before = cusbi::cuda::counters();
  f();
  const cusbi::cuda::Counters after = cusbi::cuda::counters();
  return {{"launches", after.launches - before.launches},
          {"cublas_calls", after.cublas_calls - before.cublas_calls},
          {"host_syncs", after.host_syncs - before.host_syncs}};
}

// theta ~ U(-3, 3)^2, x = theta + 0.1 noise: (n, 2) each, from a generator seeded `seed`.
std::pair<Tensor, Tensor> simulations(int64_t n, Device device, uint64_t seed) {
  cusbi::Generator g(seed);
  return cusbi_e2e::uniform_simulations(n, device, &g);
}

// `steps` Adam steps on (theta, x) with preallocated losses and d mean / d losses.
void train(cusbi::NeuralSplineFlow& flow, cusbi::Adam& opt, const Tensor& theta, const Tensor& x,
           int steps, bool clip) {
  const int64_t b = theta.size(0);
  Tensor losses = Tensor::empty({b}, theta.device());
  const Tensor grad = Tensor::full({b}, 1.0f / static_cast<float>(b), theta.device());
  for (int s = 0; s < steps; ++s) {
    opt.zero_grad();
    flow.loss(theta, x, losses);
    flow.backward(grad);
    if (clip) cusbi::clip_grad_norm_on_device(flow.gradients(), 5.0);
    opt.step();
  }
}

int run(int argc, char** argv) {
  std::string device_name = "cpu";
  int repeats = 3;
  int64_t big = 1000000;
  bool counts_only = false;
  cusbi_e2e::Options("use --device, --repeats, --big, --counts")
      .common(&device_name, &repeats)
      .value("--big", [&](const char* v) { big = std::max<int64_t>(1, std::atoll(v)); })
      .value("--counts", [&](const char* v) { counts_only = std::atoi(v) != 0; })
      .parse(argc, argv);
  const Device device = cusbi_e2e::usable_device(device_name);
  nlohmann::json result = cusbi_e2e::machine_json(device, repeats);

  const auto [theta, x] = simulations(1000, device, 0);
  cusbi::Generator g(1);
  cusbi::NeuralSplineFlow flow = cusbi::build_nsf(theta, x, {}, &g);
  flow.set_check_training_inputs(false);  // as the trainer: data checked once, no sync per step
  cusbi::Adam opt(flow.parameters(), flow.gradients(), 5e-4);
  const Tensor t200 = theta.slice_rows(0, 200), x200 = x.slice_rows(0, 200);
  {  // one step exactly as train() takes it, on buffers made outside the counted call
    Tensor losses = Tensor::empty({200}, device);
    const Tensor grad = Tensor::full({200}, 1.0f / 200.0f, device);
    result["step_200_counts"] = counted(device, [&] {
      opt.zero_grad();
      flow.loss(t200, x200, losses);
      flow.backward(grad);
      cusbi::clip_grad_norm_on_device(flow.gradients(), 5.0);
      opt.step();
    });
  }
  Tensor lp1000 = Tensor::empty({1, 1000}, device);
  result["log_prob_1000_counts"] = counted(device, [&] { flow.log_prob(theta, x, lp1000); });
  if (counts_only) {
    std::printf("%s\n", result.dump(2).c_str());
    return 0;
  }
  result["tutorial_train_s"] =
      timed(device, repeats, [&] { train(flow, opt, theta, x, 100, false); });
  train(flow, opt, t200, x200, 5, true);  // warm-up: workspaces sized for batch 200
  result["step_200_ms"] =
      1e3 * timed(device, repeats, [&] { train(flow, opt, t200, x200, 50, true); }) / 50;

  const auto [big_theta, big_x] = simulations(big, device, 2);
  Tensor lp = Tensor::empty({1, big}, device);
  result["log_prob_per_s"] =
      double(big) / timed(device, repeats, [&] { flow.log_prob(big_theta, big_x, lp); });
  const Tensor x_o = cusbi_e2e::x_o_on(device);
  result["sample_per_s"] =
      double(big) / timed(device, repeats, [&] { flow.sample({big}, x_o, &g); });
  std::printf("%s\n", result.dump(2).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return cusbi_e2e::main_reporting_errors(run, argc, argv); }
