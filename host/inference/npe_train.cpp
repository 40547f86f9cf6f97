// NPE.train: NPE as an adapter over the shared training loop (trainer.cpp). Only what is NPE's
// own is here: the flow q(theta | x) built from the training rows, and its loss -log q(theta | x).
#include <memory>

#include "host/inference/npe_state.hpp"

namespace cusbi {

namespace detail {

void NpeEstimator::build_network(const Tensor& theta, const Tensor& x, Generator& g) {
  flow = std::make_unique<NeuralSplineFlow>(build_nsf(theta, x, options_, &g));
  // The intake dropped (or train() refuses) NaN/Inf rows, so the per-step check, which would
  // synchronise with the GPU every step, has nothing left to find.
  flow->set_check_training_inputs(false);
}

void NpeEstimator::batch_loss(const Tensor& theta, const Tensor& x, Tensor& losses,
                              bool /*training*/, Generator& /*g*/) {
  flow->loss(theta, x, losses);
}

}  // namespace detail

NeuralSplineFlow& NPE::train(const TrainOptions& options) {
  detail::NpeState& m = *impl_;
  detail::train_estimator(m.estimator, m.data, m.training, options);
  return *m.estimator.flow;
}

}  // namespace cusbi
