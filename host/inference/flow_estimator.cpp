// FlowEstimator: the network and loss of NPE and NLE for the shared training loop (trainer.cpp);
// and their state's check that a flow has been trained.
#include "host/inference/flow_estimator.hpp"

#include <memory>

#include "cusbi/error.hpp"

namespace cusbi::detail {

void FlowEstimator::build_network(const Tensor& theta, const Tensor& x, Generator& g) {
  flow = std::make_shared<NeuralSplineFlow>(role_ == FlowRole::kPosterior
                                                ? build_nsf(theta, x, options_, &g)
                                                : build_nsf(x, theta, options_, &g));
  // The intake dropped (or train() refuses) NaN/Inf rows, so the per-step check, which would
  // synchronise with the GPU every step, has nothing left to find.
  flow->set_check_training_inputs(false);
}

void FlowEstimator::batch_loss(const Tensor& theta, const Tensor& x, Tensor& losses,
                               bool /*training*/, Generator& /*g*/) {
  if (role_ == FlowRole::kPosterior)
    flow->loss(theta, x, losses);
  else
    flow->loss(x, theta, losses);
}

NeuralSplineFlow& FlowInferenceState::trained_flow() const {
  CUSBI_CHECK(estimator.flow != nullptr,
              data.estimator << ": no density estimator yet; call append_simulations(theta, x) "
                                "and train() first");
  return *estimator.flow;
}

}  // namespace cusbi::detail
