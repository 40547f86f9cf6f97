// The cusbi side of bench/e2e's NPE workflows (tools/e2e_sbi_npe.py describes them and prints
// the same keys for sbi; scripts/e2e_compare_npe.sh puts the two side by side):
//   tutorial   1000 simulations, build_nsf, 100 full-batch Adam steps, 1000 flow samples,
//              DirectPosterior and 1000 posterior samples at x_o = [1, 1];
//   trainer_N  simulate_for_sbi(N) in batches of 1000, NPE train() with sbi's defaults,
//              build_posterior, 1000 samples (max_num_epochs capped for N > 10000);
//   batched    sample_batched({1000}, xs) for 1000 observations (with --batched).
// Each phase is timed with a device synchronisation before each clock read; medians of repeats.
//   bench_e2e_npe [--device cpu|cuda|cuda:N] [--repeats 3] [--seed 0]
//                 [--trainer-sims 1000,100000] [--large-max-epochs 5] [--batched]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cusbi/cusbi.hpp"
#include "e2e_support.hpp"

namespace {

using cusbi::Device;
using cusbi::Tensor;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

// Seconds taken by f(), with the device idle before and after.
template <class F>
double timed(Device device, F&& f) {
  cusbi::synchronize(device);
  const auto start = Clock::now();
  f();
  cusbi::synchronize(device);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Tensor simulator(const Tensor& theta, cusbi::Generator* generator) {
  return theta + 0.1f * cusbi::randn_like(theta, generator);
}

Json tutorial(Device device, uint64_t seed, std::unique_ptr<cusbi::DirectPosterior>& keep) {
  cusbi::Generator g(seed);
  const cusbi::BoxUniform prior(-3.0f, 3.0f, 2, device);
  const Tensor theta = prior.sample({1000}, &g);
  const Tensor x = simulator(theta, &g);
  Json out;
  std::unique_ptr<cusbi::NeuralSplineFlow> flow;
  out["train_s"] = timed(device, [&] {
    flow = std::make_unique<cusbi::NeuralSplineFlow>(cusbi::build_nsf(theta, x, {}, &g));
    cusbi::Adam opt(flow->parameters(), flow->gradients(), 5e-4);
    const Tensor grad_mean = Tensor::full({1000}, 1.0f / 1000, device);
    for (int step = 0; step < 100; ++step) {
      opt.zero_grad();
      flow->loss(theta, x);
      flow->backward(grad_mean);
      opt.step();
    }
  });
  const Tensor x_o = Tensor::from({1.0f, 1.0f}, {1, 2}, device);
  out["flow_sample_s"] = timed(device, [&] { flow->sample({1000}, x_o, &g); });
  cusbi::SampleOptions quiet;
  quiet.show_progress = false;
  quiet.generator = &g;
  out["posterior_sample_s"] = timed(device, [&] {
    keep = std::make_unique<cusbi::DirectPosterior>(*flow, prior);
    keep->sample({1000}, x_o, quiet);
  });
  out["total_s"] = out["train_s"].get<double>() + out["flow_sample_s"].get<double>() +
                   out["posterior_sample_s"].get<double>();
  return out;
}

Json trainer(Device device, uint64_t seed, int64_t n, int64_t max_epochs) {
  cusbi::Generator g(seed);
  const cusbi::BoxUniform prior(-3.0f, 3.0f, 2, device);
  Json out;
  Tensor theta, x;
  cusbi::SimulateOptions sim;
  sim.show_progress = false;
  sim.generator = &g;
  out["simulate_s"] = timed(device, [&] {
    std::tie(theta, x) = cusbi::simulate_for_sbi(
        [&](const Tensor& t) { return simulator(t, &g); }, prior, n, sim);
  });
  cusbi::NPE npe(prior, device);
  cusbi::TrainOptions train;
  train.show_progress = false;
  train.generator = &g;
  if (max_epochs > 0) train.max_num_epochs = max_epochs;
  out["train_s"] = timed(device, [&] { npe.append_simulations(theta, x).train(train); });
  out["epochs"] = npe.summary().epochs_trained.back();
  out["epoch_s"] = out["train_s"].get<double>() / std::max<int64_t>(1, out["epochs"].get<int64_t>());
  out["best_validation_loss"] = npe.summary().best_validation_loss.back();
  cusbi::SampleOptions quiet;
  quiet.show_progress = false;
  quiet.generator = &g;
  out["posterior_sample_s"] = timed(device, [&] {
    cusbi::DirectPosterior posterior = npe.build_posterior();
    posterior.sample({1000}, Tensor::from({1.0f, 1.0f}, {1, 2}, device), quiet);
  });
  out["total_s"] = out["simulate_s"].get<double>() + out["train_s"].get<double>() +
                   out["posterior_sample_s"].get<double>();
  return out;
}

Json batched(Device device, uint64_t seed, cusbi::DirectPosterior& posterior) {
  cusbi::Generator g(seed);
  const cusbi::BoxUniform prior(-3.0f, 3.0f, 2, device);
  const Tensor xs = simulator(prior.sample({1000}, &g), &g);
  cusbi::SampleOptions quiet;
  quiet.show_progress = false;
  quiet.generator = &g;
  return Json{{"sample_batched_s",
               timed(device, [&] { posterior.sample_batched({1000}, xs, quiet); })}};
}

// The runs plus the median of every numeric key.
Json summarise(const Json& runs) {
  Json out;
  for (const auto& [key, value] : runs[0].items()) {
    if (!value.is_number()) continue;
    std::vector<double> values;
    for (const auto& r : runs) values.push_back(r[key].get<double>());
    out[key] = cusbi_e2e::median(values);
  }
  out["runs"] = runs;
  return out;
}

int run(int argc, char** argv) {
  std::string device_name = "cpu", sims = "1000,100000";
  int repeats = 3;
  int64_t large_max_epochs = 5;
  uint64_t seed = 0;
  bool with_batched = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const bool has_value = i + 1 < argc;
    if (flag == "--batched") with_batched = true;
    else if (flag == "--device" && has_value) device_name = argv[++i];
    else if (flag == "--repeats" && has_value) repeats = std::max(1, std::atoi(argv[++i]));
    else if (flag == "--seed" && has_value) seed = std::strtoull(argv[++i], nullptr, 10);
    else if (flag == "--trainer-sims" && has_value) sims = argv[++i];
    else if (flag == "--large-max-epochs" && has_value) large_max_epochs = std::atoll(argv[++i]);
    else CUSBI_FAIL("unknown option " << flag << "; see the comment at the top of bench/e2e/npe.cpp");
  }
  const Device device = cusbi_e2e::parse_device(device_name);
  cusbi::check_device_usable(device);
  cusbi::set_progress_enabled(false);

  Json result = cusbi_e2e::machine_json(device, repeats);
  Json runs = Json::array();
  std::unique_ptr<cusbi::DirectPosterior> posterior;
  for (int r = 0; r < repeats; ++r) runs.push_back(tutorial(device, seed + r, posterior));
  result["workflows"]["tutorial"] = summarise(runs);
  if (with_batched) {
    runs = Json::array();
    for (int r = 0; r < repeats; ++r) runs.push_back(batched(device, seed + r, *posterior));
    result["workflows"]["batched"] = summarise(runs);
  }
  std::stringstream list(sims);
  for (std::string item; std::getline(list, item, ',');) {
    if (item.empty()) continue;
    const int64_t n = std::atoll(item.c_str());
    const bool large = n > 10000;  // one capped run, as the sbi script does
    runs = Json::array();
    for (int r = 0; r < (large ? 1 : repeats); ++r)
      runs.push_back(trainer(device, seed + r, n, large ? large_max_epochs : 0));
    result["workflows"]["trainer_" + item] = summarise(runs);
  }
  std::printf("%s\n", result.dump(2).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return cusbi_e2e::main_reporting_errors(run, argc, argv); }
