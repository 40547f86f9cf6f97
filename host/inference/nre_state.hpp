// NRE's state (host-private): the prior on the device, the simulations with sbi's NRE policy for
// invalid rows, the classifier as the shared loop's adapter, and the loop's state between train()
// calls.
#pragma once
#include <memory>

#include "cusbi/nre.hpp"
#include "host/inference/ratio_estimator.hpp"
#include "host/inference/simulation_data.hpp"
#include "host/inference/trainer.hpp"

namespace cusbi::detail {

struct NreState {
  NreState(const Distribution& p, const NreOptions& o, Device d)
      : prior(p.to(d)),
        device(d),
        data("NRE", prior->event_size(), d, InvalidRowPolicy::kRaiseOrBiased),
        estimator(o) {}

  std::unique_ptr<Distribution> prior;  // on `device`
  Device device;
  SimulationData data;
  RatioEstimator estimator;
  TrainingState training;
};

}  // namespace cusbi::detail
