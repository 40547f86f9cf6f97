// NLE.train: the shared training loop (trainer.cpp) on the flow q(x | theta) (flow_estimator.cpp).
#include "host/inference/nle_state.hpp"

namespace cusbi {

NeuralSplineFlow& NLE::train(const TrainOptions& options) {
  detail::NleState& m = *impl_;
  detail::train_estimator(m.estimator, m.data, m.training, options);
  return *m.estimator.flow;
}

}  // namespace cusbi
