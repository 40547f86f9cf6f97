// Shared by the bench/e2e programs (and bench/micro/mcmc.cpp): device names as the sbi scripts
// take them, option parsing, device-synchronised timing, medians of repeats, the tutorial's
// simulator, data and flow training (seed/18), the machine description every JSON result starts
// with, and an error-reporting main. tools/e2e_common.py is the sbi side's counterpart.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "cusbi/cusbi.hpp"

namespace cusbi_e2e {

inline cusbi::Device parse_device(const std::string& name) {
  if (name == "cpu") return cusbi::Device::cpu();
  if (name == "cuda") return cusbi::Device::cuda(0);
  if (name.rfind("cuda:", 0) == 0) return cusbi::Device::cuda(std::atoi(name.c_str() + 5));
  CUSBI_FAIL("--device is '" << name << "'; use cpu, cuda or cuda:N");
}

// parse_device(name), checked usable (a CUDA device in a build without CUDA fails here).
inline cusbi::Device usable_device(const std::string& name) {
  const cusbi::Device device = parse_device(name);
  cusbi::check_device_usable(device);
  return device;
}

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// The runs plus the median of every numeric key of the first run.
inline nlohmann::json summarise(const nlohmann::json& runs) {
  nlohmann::json out;
  for (const auto& [key, value] : runs[0].items()) {
    if (!value.is_number()) continue;
    std::vector<double> values;
    for (const auto& r : runs) values.push_back(r[key].get<double>());
    out[key] = median(values);
  }
  out["runs"] = runs;
  return out;
}

// Seconds taken by f(), with the device idle before and after.
template <class F>
double timed(cusbi::Device device, F&& f) {
  using Clock = std::chrono::steady_clock;
  cusbi::synchronize(device);
  const auto start = Clock::now();
  f();
  cusbi::synchronize(device);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ---- the tutorial (seed/18_training_interface.md) ---------------------------------------------

// x = theta + 0.1 noise.
inline cusbi::Tensor simulator(const cusbi::Tensor& theta, cusbi::Generator* generator) {
  return theta + 0.1f * cusbi::randn_like(theta, generator);
}

// The tutorial's observation, x_o = [[1, 1]].
inline cusbi::Tensor x_o_on(cusbi::Device device) {
  return cusbi::Tensor::from({1.0f, 1.0f}, {1, 2}, device);
}

// n draws of theta from `prior` and their simulations: (theta, x).
inline std::pair<cusbi::Tensor, cusbi::Tensor> tutorial_data(const cusbi::BoxUniform& prior,
                                                             int64_t n, cusbi::Generator* g) {
  cusbi::Tensor theta = prior.sample({n}, g);
  cusbi::Tensor x = simulator(theta, g);
  return {theta, x};
}

// theta ~ U(-3, 3)^2 drawn directly (not through a prior) and x = simulator(theta): (n, 2) each.
inline std::pair<cusbi::Tensor, cusbi::Tensor> uniform_simulations(int64_t n, cusbi::Device device,
                                                                   cusbi::Generator* g) {
  cusbi::Tensor theta = cusbi::uniform({n, 2}, -3.0f, 3.0f, device, g);
  cusbi::Tensor x = simulator(theta, g);
  return {theta, x};
}

// The tutorial's custom loop: build_nsf(inputs, context), then 100 full-batch Adam steps at
// lr 5e-4 on mean loss(inputs | context). NPE passes (theta, x), NLE (x, theta).
inline std::unique_ptr<cusbi::NeuralSplineFlow> train_tutorial_flow(const cusbi::Tensor& inputs,
                                                                    const cusbi::Tensor& context,
                                                                    cusbi::Generator* g) {
  const int64_t n = inputs.size(0);
  auto flow = std::make_unique<cusbi::NeuralSplineFlow>(cusbi::build_nsf(inputs, context, {}, g));
  cusbi::Adam opt(flow->parameters(), flow->gradients(), 5e-4);
  // d mean(losses) / d losses: torch builds this inside loss.backward().
  const cusbi::Tensor grad_mean =
      cusbi::Tensor::full({n}, 1.0f / static_cast<float>(n), inputs.device());
  for (int step = 0; step < 100; ++step) {
    opt.zero_grad();
    flow->loss(inputs, context);
    flow->backward(grad_mean);
    opt.step();
  }
  return flow;
}

// ---- the trainer workflows (trainer_N) and the MCMC tutorials ---------------------------------

// simulate_for_sbi(n) of the simulator on `prior`, timed as out["simulate_s"]: (theta, x).
inline std::pair<cusbi::Tensor, cusbi::Tensor> simulate_timed(nlohmann::json& out,
                                                              cusbi::Device device,
                                                              const cusbi::BoxUniform& prior,
                                                              int64_t n, cusbi::Generator* g) {
  cusbi::Tensor theta, x;
  cusbi::SimulateOptions sim;
  sim.show_progress = false;
  sim.generator = g;
  out["simulate_s"] = timed(device, [&] {
    std::tie(theta, x) = cusbi::simulate_for_sbi(
        [&](const cusbi::Tensor& t) { return simulator(t, g); }, prior, n, sim);
  });
  return {theta, x};
}

// inference.append_simulations(theta, x).train() with sbi's defaults (max_num_epochs capped when
// max_epochs > 0), timed as out["train_s"], with the summary's epochs, epoch_s and
// best_validation_loss.
template <class Inference>
void train_timed(nlohmann::json& out, cusbi::Device device, Inference& inference,
                 const cusbi::Tensor& theta, const cusbi::Tensor& x, int64_t max_epochs,
                 cusbi::Generator* g) {
  cusbi::TrainOptions train;
  train.show_progress = false;
  train.generator = g;
  if (max_epochs > 0) train.max_num_epochs = max_epochs;
  out["train_s"] = timed(device, [&] { inference.append_simulations(theta, x).train(train); });
  out["epochs"] = inference.summary().epochs_trained.back();
  out["epoch_s"] =
      out["train_s"].get<double>() / std::max<int64_t>(1, out["epochs"].get<int64_t>());
  out["best_validation_loss"] = inference.summary().best_validation_loss.back();
}

// After a tutorial's MCMC sample() (default resample init) gave `samples`: its run's counters,
// init_s (the resample init alone, as sbi's side times it), mcmc_sampling_s and posterior_mean;
// then sampling_s, the same sample() with `options` but the proposal init.
inline void add_mcmc_tutorial_runs(nlohmann::json& out, cusbi::MCMCPosterior& posterior,
                                   const cusbi::Tensor& samples, const cusbi::Tensor& x_o,
                                   cusbi::MCMCOptions options) {
  const cusbi::MCMCRunInfo run = posterior.last_run();
  out["init_evaluations"] = run.init_evaluations;
  out["potential_evaluations"] = run.potential_evaluations;
  out["iterations"] = run.iterations;
  out["host_round_trips"] = run.host_round_trips;
  out["init_s"] = run.init_seconds;
  out["mcmc_sampling_s"] = run.seconds - run.init_seconds;
  const cusbi::Tensor mean = cusbi::mean(samples, 0).to(cusbi::Device::cpu());
  out["posterior_mean"] = {mean.data()[0], mean.data()[1]};
  options.init_strategy = "proposal";
  out["sampling_s"] = timed(x_o.device(), [&] { posterior.sample({1000}, x_o, options); });
}

// ---- options -----------------------------------------------------------------------------------

// Command-line options: flags (no value) and valued options, each with its action; any other
// argument, or a valued option without its value, fails naming `hint`.
class Options {
 public:
  explicit Options(std::string hint) : hint_(std::move(hint)) {}
  Options& flag(const std::string& name, std::function<void()> action) {
    flags_[name] = std::move(action);
    return *this;
  }
  Options& value(const std::string& name, std::function<void(const char*)> action) {
    values_[name] = std::move(action);
    return *this;
  }
  // --device, --repeats (at least 1) and --seed, as every program takes them.
  Options& common(std::string* device, int* repeats, uint64_t* seed = nullptr) {
    value("--device", [device](const char* v) { *device = v; });
    value("--repeats", [repeats](const char* v) { *repeats = std::max(1, std::atoi(v)); });
    if (seed) value("--seed", [seed](const char* v) { *seed = std::strtoull(v, nullptr, 10); });
    return *this;
  }
  // --trainer-sims N1,N2,.. and --large-max-epochs, as add_trainer_workflows takes them.
  Options& trainer(std::string* sims, int64_t* large_max_epochs) {
    value("--trainer-sims", [sims](const char* v) { *sims = v; });
    value("--large-max-epochs",
          [large_max_epochs](const char* v) { *large_max_epochs = std::atoll(v); });
    return *this;
  }
  void parse(int argc, char** argv) const {
    for (int i = 1; i < argc; ++i) {
      const std::string name = argv[i];
      if (const auto f = flags_.find(name); f != flags_.end()) {
        f->second();
      } else if (const auto v = values_.find(name); v != values_.end() && i + 1 < argc) {
        v->second(argv[++i]);
      } else {
        CUSBI_FAIL("unknown option " << name << "; " << hint_);
      }
    }
  }

 private:
  std::string hint_;
  std::map<std::string, std::function<void()>> flags_;
  std::map<std::string, std::function<void(const char*)>> values_;
};

// The comma-separated list's non-empty items, e.g. --trainer-sims 1000,100000.
inline std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> items;
  std::stringstream stream(list);
  for (std::string item; std::getline(stream, item, ',');)
    if (!item.empty()) items.push_back(item);
  return items;
}

// workflows["trainer_N"] for each N of `sims`: `repeats` runs of trainer(n, seed offset, cap)
// up to 10,000 simulations, one run capped at `large_max_epochs` above (as the sbi scripts do;
// cap 0 = uncapped); with `cap_key`, "max_num_epochs" records the cap.
template <class Trainer>
void add_trainer_workflows(nlohmann::json& result, const std::string& sims, int repeats,
                           int64_t large_max_epochs, bool cap_key, Trainer&& trainer) {
  for (const std::string& item : split_list(sims)) {
    const int64_t n = std::atoll(item.c_str());
    const bool large = n > 10000;
    nlohmann::json runs = nlohmann::json::array();
    for (int r = 0; r < (large ? 1 : repeats); ++r)
      runs.push_back(trainer(n, r, large ? large_max_epochs : 0));
    result["workflows"]["trainer_" + item] = summarise(runs);
    if (cap_key)
      result["workflows"]["trainer_" + item]["max_num_epochs"] = large ? large_max_epochs : 0;
  }
}

// "library", "device", "threads", "repeats" and the 1-minute load average (other work on the
// machine slows both sides; the compare scripts print it).
inline nlohmann::json machine_json(cusbi::Device device, int repeats) {
  double load[1] = {0.0};
  getloadavg(load, 1);
  const char* omp_threads = std::getenv("OMP_NUM_THREADS");
  return {
      {"library", "cusbi"},
      {"device", device.str()},
      {"threads", omp_threads ? std::atoi(omp_threads) : int(std::thread::hardware_concurrency())},
      {"repeats", repeats},
      {"load_average_1min", load[0]}};
}

// main() of an e2e program: run(argc, argv), a cusbi::Error printed as "error: ..." and exit 1.
inline int main_reporting_errors(int (*run)(int, char**), int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const cusbi::Error& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
}

}  // namespace cusbi_e2e
