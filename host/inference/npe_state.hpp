// NPE's state, shared by the files of host/inference/npe*.cpp: the flow q(theta | x) with the
// prior, the simulations (NPE's invalid-row policy) and the training loop's state (the
// FlowInferenceState it shares with NLE).
#pragma once
#include "cusbi/inference.hpp"
#include "host/inference/flow_estimator.hpp"

namespace cusbi {

namespace detail {

struct NpeState : FlowInferenceState {
  NpeState(const Distribution& p, const NsfOptions& options, Device d)
      : FlowInferenceState("NPE", p, options, d, FlowRole::kPosterior,
                           InvalidRowPolicy::kKeepAndCount) {}
};

}  // namespace detail
}  // namespace cusbi
