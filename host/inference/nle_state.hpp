// NLE's state, shared by the files of host/inference/nle*.cpp and by what builds its posterior:
// the simulations (the shared intake, with NLE's invalid-row policy), the flow q(x | theta) as
// the shared loop's adapter, and the loop's state between train() calls (what resume carries).
#pragma once
#include <memory>

#include "cusbi/nle.hpp"
#include "host/inference/flow_estimator.hpp"
#include "host/inference/simulation_data.hpp"
#include "host/inference/trainer.hpp"

namespace cusbi::detail {

struct NleState {
  std::unique_ptr<Distribution> prior;  // on `device`: the MCMC potential's log p(theta)
  Device device;
  SimulationData data;
  FlowEstimator estimator;  // estimator.flow: the trained q(x | theta), shared; null before train
  TrainingState training;

  NleState(const Distribution& p, const NsfOptions& options, Device d)
      : prior(p.to(d)),
        device(d),
        data("NLE", prior->event_size(), d, InvalidRowPolicy::kRaiseOrBiased),
        estimator(options, FlowRole::kLikelihood) {}
};

}  // namespace cusbi::detail
