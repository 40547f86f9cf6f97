// NPE.build_posterior, on its own so that a program that only trains links without the
// posterior code (the static library pulls this object in only when build_posterior is used).
#include "cusbi/error.hpp"
#include "host/inference/npe_state.hpp"

namespace cusbi {

DirectPosterior NPE::build_posterior() const {
  CUSBI_CHECK(impl_->estimator.flow != nullptr,
              "NPE.build_posterior: the density estimator is not trained; "
              "call append_simulations(theta, x) and train() first");
  // The deep-copying constructor: training this NPE again does not change the posterior.
  return DirectPosterior(*impl_->estimator.flow, *impl_->prior);
}

}  // namespace cusbi
