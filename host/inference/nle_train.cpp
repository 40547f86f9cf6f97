// NLE.train: the shared training loop (trainer.cpp) on the flow q(x | theta), built from the
// training rows, with the loss -log q(x | theta) (flow_estimator.cpp).
#include "host/inference/nle_state.hpp"

namespace cusbi {

NeuralSplineFlow& NLE::train(const TrainOptions& options) { return impl_->train(options); }

}  // namespace cusbi
