// run_cell: the stages of one validation cell, each timed with the device synchronised before
// and after (cusbi's calls already return finished work; the syncs make that explicit).
#include "cell.hpp"

#include <cmath>
#include <numeric>

#include "bench/e2e/e2e_support.hpp"
#include "estimators.hpp"

namespace cusbi_validation {
namespace {

// Observations xs (B, C) of the task, in the order of `observations`.
cusbi::Tensor stacked_observations(const cusbi::tasks::Task& task,
                                   const std::vector<int>& observations) {
  std::vector<cusbi::Tensor> rows;
  for (int o : observations) rows.push_back(task.observation(o));
  return cusbi::cat(rows, 0);
}

// Column b of samples (n, B, D) as (n, D).
cusbi::Tensor observation_samples(const cusbi::Tensor& samples, int64_t b) {
  const int64_t n = samples.size(0), batch = samples.size(1), d = samples.size(2);
  if (batch == 1) return samples.reshape({n, d});
  std::vector<int64_t> rows(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) rows[static_cast<size_t>(i)] = i * batch + b;
  return cusbi::take_rows(samples.reshape({n * batch, d}), rows);
}

}  // namespace

double CellResult::c2st_mean() const {
  double sum = 0.0;
  for (const auto& o : observations) sum += o.c2st;
  return observations.empty() ? NAN : sum / static_cast<double>(observations.size());
}

double CellResult::c2st_sd() const {
  if (observations.size() < 2) return 0.0;
  const double mean = c2st_mean();
  double squares = 0.0;
  for (const auto& o : observations) squares += (o.c2st - mean) * (o.c2st - mean);
  return std::sqrt(squares / static_cast<double>(observations.size() - 1));
}

double CellResult::seconds_per_run() const {
  double sample = 0.0;
  for (const auto& o : observations) sample += o.sample_seconds;
  const double runs = static_cast<double>(std::max<size_t>(observations.size(), 1));
  const double per_training = static_cast<double>(std::max<int64_t>(trainings, 1));
  return (simulate_seconds + train_seconds) / per_training + sample / runs;
}

double CellResult::total_seconds() const {
  double total = simulate_seconds + train_seconds;
  for (const auto& o : observations) total += o.sample_seconds + o.c2st_seconds;
  return total;
}

CellResult run_cell(const CellSpec& spec, const cusbi::tasks::Task& task, cusbi::Device device) {
  CUSBI_CHECK(known_algorithm(spec.algorithm),
              "unknown algorithm '" << spec.algorithm << "'; use npe, nle or nre");
  CUSBI_CHECK(!spec.observations.empty(), "a validation cell needs at least one observation");
  CellResult result;
  result.spec = spec;
  result.device = device.str();
  cusbi::Generator generator(spec.seed);
  cusbi::C2stOptions c2st_options;
  c2st_options.seed = spec.seed;

  // One training for all observations, or one per observation (then groups of one).
  std::vector<std::vector<int>> groups;
  if (spec.train_per_observation)
    for (int o : spec.observations) groups.push_back({o});
  else
    groups.push_back(spec.observations);

  for (const auto& group : groups) {
    cusbi::Tensor theta, x;
    result.simulate_seconds += cusbi_e2e::timed(device, [&] {
      theta = task.prior().sample({spec.num_simulations}, &generator);
      x = task.simulate(theta, &generator);
    });
    EstimatorRun run;
    result.train_seconds += cusbi_e2e::timed(device, [&] {
      run = train_estimator(spec.algorithm, task.prior(), theta, x, device, generator,
                            spec.show_progress);
    });
    ++result.trainings;
    result.epochs.push_back(run.epochs);

    const cusbi::Tensor xs = stacked_observations(task, group).to(device);
    cusbi::Tensor samples;
    const double sample_seconds =
        cusbi_e2e::timed(device, [&] { samples = run.sample(xs, spec.num_samples); });
    for (size_t b = 0; b < group.size(); ++b) {
      ObservationResult o;
      o.num_observation = group[b];
      o.sample_seconds = sample_seconds / static_cast<double>(group.size());
      const cusbi::Tensor reference =
          task.reference_posterior_samples(group[b], spec.num_samples, &generator).to(device);
      const cusbi::Tensor mine = observation_samples(samples, static_cast<int64_t>(b));
      o.c2st_seconds =
          cusbi_e2e::timed(device, [&] { o.c2st = cusbi::c2st(reference, mine, c2st_options); });
      result.observations.push_back(o);
    }
  }
  return result;
}

}  // namespace cusbi_validation
