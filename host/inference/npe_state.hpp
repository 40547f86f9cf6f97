// NPE's state, shared by the files of host/inference/npe*.cpp: the simulations (the shared
// intake), the adapter that lets the shared training loop train its flow, and the loop's state
// between train() calls (split, Adam, early stopping, summary: what resume_training carries).
#pragma once
#include <memory>

#include "cusbi/inference.hpp"
#include "host/inference/flow_estimator.hpp"
#include "host/inference/simulation_data.hpp"
#include "host/inference/trainer.hpp"

namespace cusbi {

namespace detail {

struct NpeState {
  std::unique_ptr<Distribution> prior;  // on `device`
  Device device;
  SimulationData data;
  FlowEstimator estimator;  // q(theta | x)
  TrainingState training;

  NpeState(const Distribution& p, const NsfOptions& options, Device d)
      : prior(p.to(d)),
        device(d),
        data("NPE", prior->event_size(), d),
        estimator(options, FlowRole::kPosterior) {}
};

}  // namespace detail
}  // namespace cusbi
