// The cusbi side of bench/e2e's NLE workflows (tools/e2e_sbi_nle.py describes them and prints
// the same keys for sbi; scripts/e2e_compare_nle.sh puts the two side by side):
//   tutorial    1000 simulations, build_nsf(x, theta), 100 full-batch Adam steps (train_s);
//               likelihood_estimator_based_potential + MCMCPosterior(50 chains, thin 1) and
//               sample({1000}) with the default resample init (mcmc_sample_s; its init alone,
//               MCMCRunInfo::init_seconds, is init_s); the same with the proposal init
//               (sampling_s, the sampling from prior draws);
//   batched     sample_batched({1000}, xs) for --batched-obs observations, 50 chains each;
//   throughput  (--throughput C1,C2,..) the tutorial's potential sampled by C chains from the
//               proposal init, warm-up 0, C samples (51 sweeps): evals_per_s =
//               last_run().potential_evaluations / last_run().seconds.
// Each phase is timed with a device synchronisation before each clock read; medians of repeats.
//   bench_e2e_nle [--device cpu|cuda|cuda:N] [--repeats 3] [--seed 0] [--batched-obs 100]
//                 [--throughput 10,100,1000,10000,100000] [--skip-tutorial]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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

// The tutorial's NLE training on the tutorial's data; returns the flow q(x | theta).
std::unique_ptr<cusbi::NeuralSplineFlow> train(Device device, const cusbi::BoxUniform& prior,
                                               cusbi::Generator& g, double* seconds) {
  const auto [theta, x] = cusbi_e2e::tutorial_data(prior, 1000, &g);
  std::unique_ptr<cusbi::NeuralSplineFlow> flow;
  *seconds = timed(device, [&] { flow = cusbi_e2e::train_tutorial_flow(x, theta, &g); });
  return flow;
}

cusbi::MCMCOptions tutorial_options(cusbi::Generator* g) {
  cusbi::MCMCOptions o;
  o.num_chains = 50;
  o.thin = 1;
  o.show_progress = false;
  o.generator = g;
  return o;
}

std::unique_ptr<cusbi::MCMCPosterior> make_posterior(const cusbi::NeuralSplineFlow& flow,
                                                     const cusbi::BoxUniform& prior,
                                                     cusbi::Generator* g) {
  auto [potential, transform] =
      cusbi::likelihood_estimator_based_potential(flow, prior, x_o_on(flow.device()));
  return std::make_unique<cusbi::MCMCPosterior>(potential, prior, transform, tutorial_options(g));
}

Json tutorial(Device device, cusbi::Generator& g, std::unique_ptr<cusbi::MCMCPosterior>& keep) {
  const cusbi::BoxUniform prior(-3.0f, 3.0f, 2, device);
  Json out;
  double train_s = 0.0;
  const auto flow = train(device, prior, g, &train_s);
  out["train_s"] = train_s;
  const Tensor x_o = x_o_on(device);
  Tensor samples;
  out["mcmc_sample_s"] = timed(device, [&] {
    keep = make_posterior(*flow, prior, &g);
    samples = keep->sample({1000}, x_o);
  });
  cusbi_e2e::add_mcmc_tutorial_runs(out, *keep, samples, x_o, tutorial_options(&g));
  out["total_s"] = train_s + out["mcmc_sample_s"].get<double>();
  return out;
}

Json batched(Device device, cusbi::Generator& g, cusbi::MCMCPosterior& posterior, int64_t num_obs) {
  const cusbi::BoxUniform prior(-3.0f, 3.0f, 2, device);
  const Tensor xs = simulator(prior.sample({num_obs}, &g), &g);
  const double seconds = timed(device, [&] { posterior.sample_batched({1000}, xs); });
  return Json{{"sample_batched_s", seconds},
              {"observations", num_obs},
              {"init_evaluations", posterior.last_run().init_evaluations},
              {"host_round_trips", posterior.last_run().host_round_trips}};
}

Json throughput(Device device, cusbi::MCMCPosterior& posterior, cusbi::Generator& g, int64_t chains,
                int repeats) {
  cusbi::MCMCOptions o = tutorial_options(&g);
  o.num_chains = chains;
  o.warmup_steps = 0;
  o.init_strategy = "proposal";
  std::vector<double> seconds;
  cusbi::MCMCRunInfo info;
  for (int r = 0; r < repeats; ++r) {
    posterior.sample({chains}, x_o_on(device), o);
    cusbi::synchronize(device);
    info = posterior.last_run();
    seconds.push_back(info.seconds);
  }
  const double s = cusbi_e2e::median(seconds);
  return Json{{"chains", chains},
              {"lockstep_calls", info.iterations},
              {"potential_evaluations", info.potential_evaluations},
              {"host_round_trips", info.host_round_trips},
              {"seconds", s},
              {"evals_per_s", double(info.potential_evaluations) / s}};
}

int run(int argc, char** argv) {
  std::string device_name = "cpu", chain_counts;
  int repeats = 3;
  int64_t batched_obs = 100;
  uint64_t seed = 0;
  bool skip_tutorial = false;
  cusbi_e2e::Options("see the comment at the top of bench/e2e/nle.cpp")
      .common(&device_name, &repeats, &seed)
      .flag("--skip-tutorial", [&] { skip_tutorial = true; })
      .value("--batched-obs", [&](const char* v) { batched_obs = std::atoll(v); })
      .value("--throughput", [&](const char* v) { chain_counts = v; })
      .parse(argc, argv);
  const Device device = cusbi_e2e::usable_device(device_name);
  cusbi::set_progress_enabled(false);

  Json result = cusbi_e2e::machine_json(device, repeats);
  result["workflows"] = Json::object();
  cusbi::Generator g(seed);
  std::unique_ptr<cusbi::MCMCPosterior> posterior;
  if (!skip_tutorial) {
    Json runs = Json::array();
    for (int r = 0; r < repeats; ++r) {
      g.manual_seed(seed + r);
      runs.push_back(tutorial(device, g, posterior));
    }
    result["workflows"]["tutorial"] = summarise(runs);
    if (batched_obs > 0) {
      runs = Json::array();
      for (int r = 0; r < repeats; ++r) runs.push_back(batched(device, g, *posterior, batched_obs));
      result["workflows"]["batched"] = summarise(runs);
    }
  }
  if (!chain_counts.empty()) {
    if (!posterior) {
      const cusbi::BoxUniform prior(-3.0f, 3.0f, 2, device);
      double train_s = 0.0;
      const auto flow = train(device, prior, g, &train_s);
      posterior = make_posterior(*flow, prior, &g);
    }
    result["throughput"] = Json::array();
    for (const std::string& item : cusbi_e2e::split_list(chain_counts))
      result["throughput"].push_back(
          throughput(device, *posterior, g, std::atoll(item.c_str()), repeats));
  }
  std::printf("%s\n", result.dump(2).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return cusbi_e2e::main_reporting_errors(run, argc, argv); }
