// NPE.train: the shared training loop (trainer.cpp) on the flow q(theta | x), built from the
// training rows, with the loss -log q(theta | x) (flow_estimator.cpp).
#include "host/inference/npe_state.hpp"

namespace cusbi {

NeuralSplineFlow& NPE::train(const TrainOptions& options) {
  detail::NpeState& m = *impl_;
  detail::train_estimator(m.estimator, m.data, m.training, options);
  return *m.estimator.flow;
}

}  // namespace cusbi
