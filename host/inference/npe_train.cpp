// NPE.train: the shared training loop (trainer.cpp) on the flow q(theta | x), built from the
// training rows, with the loss -log q(theta | x) (flow_estimator.cpp).
#include "host/inference/npe_state.hpp"

namespace cusbi {

NeuralSplineFlow& NPE::train(const TrainOptions& options) { return impl_->train(options); }

}  // namespace cusbi
