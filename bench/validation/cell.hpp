// One cell of the validation table: a task, an algorithm and a simulation budget, run on a set of
// observations. Simulate N pairs from the task's prior and simulator, train the estimator once
// (NPE, NLE and NRE are amortised: one network serves every observation) or once per observation
// (sbibm's protocol, --train-per-observation), draw posterior samples for each observation and
// score them against sbibm's reference posterior with C2ST. Each stage is timed on the device.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cusbi/cusbi.hpp"

namespace cusbi_validation {

struct CellSpec {
  std::string task;
  std::string algorithm;
  int64_t num_simulations = 1000;
  std::vector<int> observations;  // sbibm's numbering, 1..10
  int64_t num_samples = 10000;    // posterior samples and reference samples per observation
  bool train_per_observation = false;
  uint64_t seed = 1;
  bool show_progress = true;
};

struct ObservationResult {
  int num_observation = 0;
  double c2st = 0.0;
  double sample_seconds = 0.0;  // this observation's share of the batched sampling
  double c2st_seconds = 0.0;
};

struct CellResult {
  CellSpec spec;
  std::string device;
  std::vector<ObservationResult> observations;
  // Totals over the cell: one simulation and one training (amortised), or one per observation.
  double simulate_seconds = 0.0;
  double train_seconds = 0.0;
  int64_t trainings = 0;
  std::vector<int64_t> epochs;  // per training

  double c2st_mean() const;
  double c2st_sd() const;  // sample sd over observations (n - 1), 0 for one observation
  // The time of one sbibm run (one observation): simulate + train + sample for one observation,
  // with the amortised simulation and training counted in full for that one run.
  double seconds_per_run() const;
  double total_seconds() const;  // every stage of the cell, C2ST included
};

CellResult run_cell(const CellSpec& spec, const cusbi::tasks::Task& task, cusbi::Device device);

}  // namespace cusbi_validation
