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
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>

#include "cusbi/cusbi.hpp"
#include "e2e_support.hpp"

namespace {

using cusbi::Device;
using cusbi::Tensor;
using Json = nlohmann::json;
using cusbi_e2e::simulator;
using cusbi_e2e::summarise;
using cusbi_e2e::timed;
using cusbi_e2e::x_o_on;

Json tutorial(Device device, uint64_t seed, std::unique_ptr<cusbi::DirectPosterior>& keep) {
  cusbi::Generator g(seed);
  const cusbi::BoxUniform prior(-3.0f, 3.0f, 2, device);
  const auto [theta, x] = cusbi_e2e::tutorial_data(prior, 1000, &g);
  Json out;
  std::unique_ptr<cusbi::NeuralSplineFlow> flow;
  out["train_s"] = timed(device, [&] { flow = cusbi_e2e::train_tutorial_flow(theta, x, &g); });
  const Tensor x_o = x_o_on(device);
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
  const auto [theta, x] = cusbi_e2e::simulate_timed(out, device, prior, n, &g);
  cusbi::NPE npe(prior, device);
  cusbi_e2e::train_timed(out, device, npe, theta, x, max_epochs, &g);
  cusbi::SampleOptions quiet;
  quiet.show_progress = false;
  quiet.generator = &g;
  out["posterior_sample_s"] = timed(device, [&] {
    cusbi::DirectPosterior posterior = npe.build_posterior();
    posterior.sample({1000}, x_o_on(device), quiet);
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
  return Json{
      {"sample_batched_s", timed(device, [&] { posterior.sample_batched({1000}, xs, quiet); })}};
}

int run(int argc, char** argv) {
  std::string device_name = "cpu", sims = "1000,100000";
  int repeats = 3;
  int64_t large_max_epochs = 5;
  uint64_t seed = 0;
  bool with_batched = false;
  cusbi_e2e::Options("see the comment at the top of bench/e2e/npe.cpp")
      .common(&device_name, &repeats, &seed)
      .flag("--batched", [&] { with_batched = true; })
      .trainer(&sims, &large_max_epochs)
      .parse(argc, argv);
  const Device device = cusbi_e2e::usable_device(device_name);
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
  cusbi_e2e::add_trainer_workflows(
      result, sims, repeats, large_max_epochs, false,
      [&](int64_t n, int r, int64_t cap) { return trainer(device, seed + r, n, cap); });
  std::printf("%s\n", result.dump(2).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return cusbi_e2e::main_reporting_errors(run, argc, argv); }
