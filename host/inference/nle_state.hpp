// NLE's state, shared by the files of host/inference/nle*.cpp and by what builds its posterior:
// the prior on the device (the MCMC potential's log p(theta)), the simulations with NLE's
// invalid-row policy, and estimator.flow, the trained q(x | theta) (a shared_ptr, null before
// train()), with the loop's state between train() calls.
#pragma once
#include "cusbi/nle.hpp"
#include "host/inference/flow_estimator.hpp"

namespace cusbi::detail {

struct NleState : FlowInferenceState {
  NleState(const Distribution& p, const NsfOptions& options, Device d)
      : FlowInferenceState("NLE", p, options, d, FlowRole::kLikelihood,
                           InvalidRowPolicy::kRaiseOrBiased) {}
};

}  // namespace cusbi::detail
